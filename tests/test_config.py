"""The config file: where it lives, what a bad value gives, and saving that keeps the user's text."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
import tomlkit

from trailtui.core.columns import BY_NAME, DEFAULT_LIST_COLUMNS
from trailtui.core.config import (
    KEYS,
    Config,
    ConfigError,
    config_path,
    default_config_text,
    load_config,
    save_config,
    write_default_config,
)

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def path(tmp_path: Path, monkeypatch) -> Path:
    target = tmp_path / "conf" / "trailtui" / "config.toml"
    monkeypatch.setenv("TRAILTUI_CONFIG", str(target))
    return target


def test_location_is_the_xdg_config_dir_unless_trailtui_config_names_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TRAILTUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and not os.uname().sysname == "Darwin":
        assert config_path() == tmp_path / "xdg" / "trailtui" / "config.toml"
    monkeypatch.setenv("TRAILTUI_CONFIG", str(tmp_path / "mine.toml"))
    assert config_path() == tmp_path / "mine.toml"


def test_missing_file_gives_the_defaults_and_no_problem(path: Path) -> None:
    config, problems = load_config()
    assert (config, problems) == (Config(), [])
    assert config.columns == DEFAULT_LIST_COLUMNS and config.shown_columns == DEFAULT_LIST_COLUMNS
    assert (config.theme, config.side_pane, config.side_width, config.timeline) == ("textual-dark", "auto", 40, True)


def test_a_valid_file_is_read(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(
        'theme = "nord"\n[layout]\nside_pane = "below"\nside_width = 30\ntimeline = false\n'
        '[list]\ncolumns = ["eventTime", "eventName", "userAgent", "object"]\nhidden = ["userAgent"]\n'
        "[list.widths]\nobject = 120\n"
    )
    config, problems = load_config(themes=["textual-dark", "nord"])
    assert problems == []
    assert (config.theme, config.side_pane, config.side_width, config.timeline) == ("nord", "below", 30, False)
    assert config.columns == ("eventTime", "eventName", "userAgent", "object")
    assert config.shown_columns == ("eventTime", "eventName", "object")
    assert dict(config.widths) == {"object": 120}
    with pytest.raises(TypeError):
        config.widths["object"] = 3  # type: ignore[index]
    hash(config)  # usable as a key (a frozen value)


def test_every_bad_value_is_reported_with_file_and_key_and_the_default_used(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(
        'theme = "solarized-purple"\n'
        "colour = 3\n"
        '[layout]\nside_pane = "left"\nside_width = 95\ntimeline = "yes"\n'
        '[list]\ncolumns = ["eventTime", "bogus", "eventTime", "eventName"]\nhidden = "userAgent"\n'
        '[list.widths]\nresource = 2000\neventName = 2\nnope = 10\nactor = "wide"\n'
    )
    config, problems = load_config(themes=["textual-dark", "nord"])
    shown = str(path)
    expected = [
        'theme: no theme named "solarized-purple" (known: nord, textual-dark); using "textual-dark"',
        "colour: unknown key",
        'layout.side_pane: "left" is not one of "auto", "right", "below", "hidden"; using "auto"',
        "layout.side_width: 95 is over 80; using 80",
        'layout.timeline: "yes" is not true or false; using true',
        'list.columns: no column named "bogus"',
        'list.columns: "eventTime" is listed twice; the first is kept',
        'list.hidden: expected a list of column names, found "userAgent"; ignored',
        "list.widths.resource: 2000 is over 1024; using 1024",
        "list.widths.eventName: 2 is under 4; using 4",
        "list.widths.nope: no column of that name",
        'list.widths.actor: "wide" is not a whole number (4..1024); using 12',
    ]
    assert len(problems) == len(expected), problems
    for problem, wanted in zip(problems, expected):
        assert problem.startswith(f"{shown}: {wanted}"), (problem, wanted)
    assert config == Config(side_width=80, columns=("eventTime", "eventName"),
                            widths={"resource": 1024, "eventName": 4})


def test_problems_show_the_home_directory_as_a_tilde(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    target = tmp_path / ".config" / "trailtui" / "config.toml"
    target.parent.mkdir(parents=True)
    target.write_text("[list.widths]\nresource = 2000\n")
    _, problems = load_config(target)
    assert problems == ["~/.config/trailtui/config.toml: list.widths.resource: 2000 is over 1024; using 1024"]


def test_values_from_the_file_are_escaped_in_problems(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text('theme = "\\u001b]52;c;aGk=\\u0007"\n')
    _, problems = load_config(themes=["nord"])
    assert "\x1b" not in problems[0] and "\\x1b]52;c;aGk=\\x07" in problems[0]


def test_broken_toml_gives_one_problem_with_line_and_column_and_the_defaults(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text('theme = "nord"\n[layout]\nside_width = = 3\n')
    config, problems = load_config()
    assert config == Config()
    assert len(problems) == 1
    assert re.fullmatch(re.escape(str(path)) + r": line 3, column \d+: not valid TOML \(.+\); using the defaults",
                        problems[0]), problems[0]


def test_unreadable_file_is_a_problem_not_a_crash(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b'theme = "\xff"\n')
    config, problems = load_config()
    assert config == Config() and len(problems) == 1 and problems[0].startswith(f"{path}: cannot read")


def test_save_changes_only_the_given_keys_and_keeps_comments_order_and_unknown_keys(path: Path) -> None:
    path.parent.mkdir(parents=True)
    original = (
        "# my settings\n"
        'theme = "textual-dark"  # dark at night\n'
        "future_key = 1  # from a newer trailtui\n"
        "\n"
        "[layout]\n"
        "# wide monitor\n"
        "side_width = 60\n"
    )
    path.write_text(original)
    save_config({"theme": "nord", "list.hidden": ["userAgent"], "list.widths.resource": 60})
    text = path.read_text()
    assert text.startswith('# my settings\ntheme = "nord"  # dark at night\nfuture_key = 1  # from a newer trailtui\n')
    assert "[layout]\n# wide monitor\nside_width = 60\n" in text
    config, problems = load_config(themes=["nord"])
    assert problems == [f"{path}: future_key: unknown key (known: {', '.join(key.key for key in KEYS)}); ignored"]
    assert (config.theme, config.side_width, config.hidden, dict(config.widths)) == ("nord", 60, ("userAgent",),
                                                                                      {"resource": 60})
    save_config({"list.widths.resource": None, "theme": None})
    config, _ = load_config()
    assert (config.theme, dict(config.widths)) == ("textual-dark", {})
    assert "future_key = 1" in path.read_text()


def test_save_creates_a_private_documented_file_atomically(path: Path) -> None:
    written = save_config({"layout.side_pane": "below", "list.columns": ["eventTime", "eventName", "actor",
                                                                          "sourceIPAddress", "resource"]})
    assert written == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert "# Where the detail and identity panes go" in text  # the commented default file, then the change
    config, problems = load_config()
    assert problems == [] and config.side_pane == "below" and config.columns[-1] == "resource"
    assert [entry.name for entry in path.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_a_failed_write_leaves_the_old_file_whole(path: Path, monkeypatch) -> None:
    save_config({"theme": "nord"})
    before = path.read_text()

    def full_disk(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        save_config({"theme": "textual-light"})
    assert path.read_text() == before
    assert [entry.name for entry in path.parent.iterdir()] == ["config.toml"]


def test_save_follows_a_symlinked_config(tmp_path: Path, path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "trailtui.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text("# tracked in git\n")
    path.parent.mkdir(parents=True)
    path.symlink_to(dotfiles)
    save_config({"layout.timeline": False})
    assert path.is_symlink()
    assert dotfiles.read_text().split() == ["#", "tracked", "in", "git", "[layout]", "timeline", "=", "false"]


def test_save_refuses_a_broken_file_and_bad_changes_without_writing(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("theme = \n")
    with pytest.raises(ConfigError, match=r"line 1, column \d+: not valid TOML .*not changed"):
        save_config({"theme": "nord"})
    assert path.read_text() == "theme = \n"
    path.write_text("")
    for bad in ({"layout.side_width": 500}, {"list.hidden": ["nope"]}, {"list.widths.nope": 10},
                {"colour": "red"}, {"layout.timeline": "yes"}):
        with pytest.raises(ConfigError):
            save_config(bad)
    assert path.read_text() == ""


def test_default_file_documents_every_key_and_changes_nothing(path: Path) -> None:
    text = default_config_text()
    assert tomlkit.parse(text).unwrap() == {"layout": {}, "list": {"widths": {}}}
    for key in KEYS:
        name = key.key.rsplit(".", 1)[-1] if key.key != "list.widths" else "resource"
        assert f"# {name} = " in text, key.key
    assert write_default_config() == path
    assert load_config() == (Config(), [])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_default_config()
    # Each commented example, once uncommented, is a valid setting.
    uncommented = re.sub(r"^# (\w+ = )", r"\1", text, flags=re.MULTILINE)
    path.write_text(uncommented)
    config, problems = load_config(themes=["textual-dark"])
    assert problems == [] and config.hidden == ("userAgent", "recipientAccountId")


def test_readme_documents_every_key_and_column_name() -> None:
    readme = README.read_text()
    section = readme[readme.index("## Configuration"):]
    section = section[: section.index("\n## ", 1)]
    for key in KEYS:
        assert f"`{key.key}" in section, key.key
    for name in BY_NAME:
        assert f"| `{name}` |" in section, name
    assert tomlkit.parse(section.split("```toml\n")[1].split("```")[0])  # the example is TOML
