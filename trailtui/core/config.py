"""The config file: theme, layout and the event list's columns, kept between runs.

One TOML file (``$TRAILTUI_CONFIG``, else ``config.toml`` in the user's config directory from
platformdirs: ``$XDG_CONFIG_HOME/trailtui/``, by default ``~/.config/trailtui/`` on Linux),
meant to be read and edited by hand like k9s's or VisiData's. Every key is optional
(:data:`KEYS` declares each one: its dotted name, default and meaning; the commented default
file and the README's "Configuration" section say the same).

Reading never fails on content: a bad value is reported (naming the file and the key) and its
default used; a file that is not valid TOML is reported with its line and column and the
defaults used. Saving (the app remembering a change) rewrites only the keys it changes, with
tomlkit, so the user's comments, order and unknown keys stay; the write is atomic (temp file +
rename) and private (0600 file, 0700 directory).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from trailtui.core.columns import BY_NAME, COLUMN_WIDTH_RANGE, DEFAULT_LIST_COLUMNS
from trailtui.core.text import printable

if TYPE_CHECKING:
    import tomlkit
    import tomlkit.exceptions

#: Where the side panes (detail, identity) go: beside the list, below it, hidden, or ``auto``
#: (the app picks right or below from the terminal's size).
SIDE_PANE_PLACES = ("auto", "right", "below", "hidden")
#: ``layout.side_width``: percent of the terminal's width, when the side pane is on the right.
SIDE_WIDTH_RANGE = (20, 80)
#: ``list.widths``: cells of a column.
#: Environment variable naming the config file (the whole path), over the default location.
CONFIG_ENV = "TRAILTUI_CONFIG"


class ConfigError(ValueError):
    """The config file cannot be updated as asked (:func:`save_config`): it is not valid TOML
    (it is left as it is), a key is unknown, or a value has the wrong type. The message names
    the file or the key."""


@dataclass(frozen=True)
class Config:
    """The settings from the config file, defaults where it says nothing (or something wrong).

    ``theme``: a Textual theme name. ``side_pane``: one of :data:`SIDE_PANE_PLACES`.
    ``side_width``: percent of the width given to the side pane when it is on the right
    (:data:`SIDE_WIDTH_RANGE`). ``timeline``: whether the timeline strip is shown. ``columns``:
    the event list's columns in order (names from ``core.columns.BY_NAME``); ``hidden``: those of
    them not shown (hiding keeps a column's place, so showing it again puts it back there);
    ``widths``: cells per column name (:data:`COLUMN_WIDTH_RANGE`), read-only.
    """

    theme: str = "textual-dark"
    side_pane: str = "auto"
    side_width: int = 40
    timeline: bool = True
    columns: tuple[str, ...] = DEFAULT_LIST_COLUMNS
    hidden: tuple[str, ...] = ()
    widths: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def __post_init__(self) -> None:
        # Frozen all the way down: lists become tuples, the widths a read-only mapping.
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "widths", MappingProxyType(dict(self.widths)))

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """``columns`` without the ``hidden`` ones, in order."""
        hidden = set(self.hidden)
        return tuple(name for name in self.columns if name not in hidden)


@dataclass(frozen=True)
class ConfigKey:
    """One key of the file: ``key`` (dotted, as written in the file: ``layout.side_width``),
    ``attribute`` (of :class:`Config`, and the name of its check in this module's reader),
    ``section`` (the ``[table]`` it is written under in the default file; "" for the top),
    ``doc`` (comment lines) and ``example`` (TOML lines shown commented out in the default
    file: the default, or an example when the default is empty)."""

    key: str
    attribute: str
    section: str
    doc: str
    example: str


def _toml_list(names: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{name}"' for name in names) + "]"


#: Every key of the config file.
KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("theme", "theme", "",
              "Colour theme: any Textual theme name (the command palette's theme list shows them).",
              'theme = "textual-dark"'),
    ConfigKey("layout.side_pane", "side_pane", "layout",
              'Where the detail and identity panes go: "auto" (right on a wide terminal, below on a narrow\n'
              'one), "right", "below" or "hidden".', 'side_pane = "auto"'),
    ConfigKey("layout.side_width", "side_width", "layout",
              f"Width of the side pane when it is on the right, in percent of the terminal's width "
              f"({SIDE_WIDTH_RANGE[0]}..{SIDE_WIDTH_RANGE[1]}).", "side_width = 40"),
    ConfigKey("layout.timeline", "timeline", "layout",
              "Show the timeline strip above the event list (true or false).", "timeline = true"),
    ConfigKey("list.columns", "columns", "list",
              "The event list's columns, in order. Names: eventTime, eventName, errorCode, actor, sourceIPAddress,\n"
              "resource, ... (the README's \"Configuration\" section lists every name).",
              f"columns = {_toml_list(DEFAULT_LIST_COLUMNS)}"),
    ConfigKey("list.hidden", "hidden", "list",
              "Columns of list.columns that are hidden (they keep their place for when they are shown again).",
              'hidden = ["userAgent", "recipientAccountId"]'),
    ConfigKey("list.widths", "widths", "list.widths",
              f"Width of a column in cells ({COLUMN_WIDTH_RANGE[0]}..{COLUMN_WIDTH_RANGE[1]}), one line per column.",
              "resource = 60\nuserAgent = 40"),
)
_BY_KEY = {key.key: key for key in KEYS}
_COLUMN_NAMES_HINT = "the README's \"Configuration\" section lists the column names"
_TABLES = ("layout", "list", "list.widths")


def config_path() -> Path:
    """The config file's path: ``$TRAILTUI_CONFIG`` when set, else ``config.toml`` in
    ``platformdirs.user_config_path("trailtui")`` (``$XDG_CONFIG_HOME/trailtui`` on Linux,
    ``~/.config/trailtui`` when that is unset)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_config_path("trailtui") / "config.toml"


def _shown(path: Path) -> str:
    """``path`` as messages show it: ``~/...`` under the home directory, escaped."""
    home = str(Path.home())
    text = str(path)
    if text == home or text.startswith(home.rstrip(os.sep) + os.sep):
        text = "~" + text[len(home):]
    return printable(text)


def _value_text(value: object) -> str:
    """A value from the file as messages quote it: TOML-like, escaped, cut to 60 characters."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = f'"{value}"'
    else:
        text = str(value)
    text = printable(text)
    return text if len(text) <= 60 else text[:59] + "…"


# --------------------------------------------------------------------------- reading


def load_config(
    path: os.PathLike | str | None = None, *, themes: Iterable[str] | None = None
) -> tuple[Config, list[str]]:
    """Read the config file at ``path`` (default :func:`config_path`).

    Returns the :class:`Config` and the problems found, one line each naming the file and the
    key and saying what is used instead, e.g. ``"~/.config/trailtui/config.toml:
    list.widths.resource: 2000 is over 1024; using 1024"``. ``themes``: the theme names the
    caller accepts (the app passes Textual's; core does not import Textual); None accepts any
    name. A missing file gives the defaults and no problem; an unreadable file or one that is not
    TOML gives the defaults and one problem (with the line and column). Unknown keys are
    reported, and left in the file. Never raises for the file's content.
    """
    import tomlkit  # here, not at module level: the app starts faster without a config file
    path = Path(path).expanduser() if path is not None else config_path()
    shown = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(), []
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        return Config(), [f"{shown}: cannot read: {printable(reason)}; using the defaults"]
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as err:
        return Config(), [f"{shown}: {_parse_error(err)}; using the defaults"]
    reader = _Reader(shown, themes)
    return reader.read(document.unwrap()), reader.problems


def _parse_error(err: tomlkit.exceptions.ParseError) -> str:
    """``line 3, column 1: not TOML (unexpected character 'c')`` from tomlkit's error."""
    message = str(err)
    cut = message.rfind(" at line ")
    reason = message[:cut] if cut > 0 else message
    return f"line {err.line}, column {err.col + 1}: not valid TOML ({printable(reason[:1].lower() + reason[1:])})"


class _Reader:
    """Checks a parsed file key by key, collecting problems and the values that pass."""

    def __init__(self, shown: str, themes: Iterable[str] | None) -> None:
        self.shown = shown
        self.themes = None if themes is None else set(themes)
        self.problems: list[str] = []

    def problem(self, key: str, text: str) -> None:
        self.problems.append(f"{self.shown}: {printable(key)}: {text}")

    def read(self, data: dict) -> Config:
        values: dict[str, object] = {}
        # Each key's check is the method named after its Config attribute.
        checks: dict[str, Callable[[str, object], object]] = {key.key: getattr(self, key.attribute) for key in KEYS}
        for key, value in _flatten(data):
            if key in checks:
                checked = checks[key](key, value)
                if checked is not None:
                    values[_BY_KEY[key].attribute] = checked
            elif key in _TABLES:
                self.problem(key, f"expected a table, found {_value_text(value)}; using the defaults")
            else:
                self.problem(key, f"unknown key (known: {', '.join(_BY_KEY)}); ignored")
        return Config(**values)

    def theme(self, key: str, value: object) -> str | None:
        default = Config.theme
        if not isinstance(value, str) or not value:
            self.problem(key, f"{_value_text(value)} is not a theme name; using \"{default}\"")
            return None
        if self.themes is not None and value not in self.themes:
            known = ", ".join(sorted(self.themes))
            self.problem(key, f"no theme named {_value_text(value)} (known: {known}); using \"{default}\"")
            return None
        return value

    def side_pane(self, key: str, value: object) -> str | None:
        if value not in SIDE_PANE_PLACES:
            places = ", ".join(f'"{place}"' for place in SIDE_PANE_PLACES)
            self.problem(key, f"{_value_text(value)} is not one of {places}; using \"{Config.side_pane}\"")
            return None
        return value  # type: ignore[return-value]

    def side_width(self, key: str, value: object) -> int | None:
        return self.whole_number(key, value, SIDE_WIDTH_RANGE, Config.side_width)

    def whole_number(self, key: str, value: object, bounds: tuple[int, int], default: int) -> int | None:
        low, high = bounds
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"{_value_text(value)} is not a whole number ({low}..{high}); using {default}")
            return None
        if value < low:
            self.problem(key, f"{value} is under {low}; using {low}")
            return low
        if value > high:
            self.problem(key, f"{value} is over {high}; using {high}")
            return high
        return value

    def timeline(self, key: str, value: object) -> bool | None:
        if not isinstance(value, bool):
            self.problem(key, f"{_value_text(value)} is not true or false; using {str(Config.timeline).lower()}")
            return None
        return value

    def names(self, key: str, value: object) -> tuple[str, ...] | None:
        """A list of column names: unknown and repeated names are reported and left out."""
        if not isinstance(value, list):
            self.problem(key, f"expected a list of column names, found {_value_text(value)}; ignored")
            return None
        names: list[str] = []
        for name in value:
            if not isinstance(name, str) or name not in BY_NAME:
                self.problem(key, f"no column named {_value_text(name)} ({_COLUMN_NAMES_HINT}); left out")
            elif name in names:
                self.problem(key, f'"{name}" is listed twice; the first is kept')
            else:
                names.append(name)
        return tuple(names)

    def columns(self, key: str, value: object) -> tuple[str, ...] | None:
        names = self.names(key, value)
        if names == ():
            self.problem(key, "no column left to show; using the default columns")
            return None
        return names

    def hidden(self, key: str, value: object) -> tuple[str, ...] | None:
        return self.names(key, value)

    def widths(self, key: str, value: object) -> Mapping[str, int] | None:
        if not isinstance(value, dict):
            self.problem(key, f"expected a table of column = cells, found {_value_text(value)}; ignored")
            return None
        widths: dict[str, int] = {}
        for name, cells in value.items():
            where = f"{key}.{name}"
            if name not in BY_NAME:
                self.problem(where, f"no column of that name ({_COLUMN_NAMES_HINT}); ignored")
                continue
            checked = self.whole_number(where, cells, COLUMN_WIDTH_RANGE, BY_NAME[name].width)
            if checked is not None:
                widths[name] = checked
        return MappingProxyType(widths)


def _flatten(data: dict, prefix: str = "") -> Iterable[tuple[str, object]]:
    """``(dotted key, value)`` for every key, descending into the known tables only (a table
    under ``list.widths`` is a value to check, an unknown table is one unknown key)."""
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and key in ("layout", "list"):
            yield from _flatten(value, key + ".")
        else:
            yield key, value


# --------------------------------------------------------------------------- writing


def save_config(changes: Mapping[str, object], path: os.PathLike | str | None = None) -> Path:
    """Set the dotted keys of ``changes`` in the config file at ``path`` (default
    :func:`config_path`), leaving everything else in it as it is (comments, order, unknown
    keys). Returns the path written.

    Keys are those of :data:`KEYS`, or ``list.widths.<column>`` for one width (``{"theme":
    "nord", "list.hidden": ["userAgent"], "list.widths.resource": 60}``); a value of None
    removes the key (back to its default). A missing file is created from
    :func:`default_config_text` (so it documents every key), 0600 in a 0700 directory. The
    write is atomic (a temp file renamed over the old one); a symbolic link is followed, so a
    dotfiles link stays a link. Raises :class:`ConfigError` for an unknown key or a value of the
    wrong type (nothing is written then) and for a file that is not valid TOML (it is left as it
    is: the user's text is never lost), ``OSError`` when the file cannot be written.
    """
    import tomlkit  # here, not at module level: the app starts faster without a config file
    path = Path(path).expanduser() if path is not None else config_path()
    for key, value in changes.items():
        _check_change(key, value)
    target = path.resolve() if path.is_symlink() else path
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = default_config_text()  # a new file documents every key
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as err:
        raise ConfigError(f"{_shown(path)}: {_parse_error(err)}; not changed (fix or remove it)") from None
    for key, value in changes.items():
        _set(document, key, value, path)
    _write_atomically(target, tomlkit.dumps(document))
    return path


def _check_change(key: str, value: object) -> None:
    """Raise :class:`ConfigError` unless ``value`` is right for ``key`` (None: remove it)."""
    if value is None:
        if key not in _BY_KEY and not _is_width_key(key):
            raise ConfigError(f"unknown config key {key!r}")
        return
    reader = _Reader("", None)
    if _is_width_key(key):
        accepted = reader.widths("list.widths", {key.removeprefix("list.widths."): value})
    elif key in _BY_KEY:
        if key == "list.widths" and not isinstance(value, Mapping):
            raise ConfigError(f"list.widths: expected a mapping of column name to cells, got {value!r}")
        if isinstance(value, tuple):
            value = list(value)
        accepted = reader.read(_nest(key, dict(value) if isinstance(value, Mapping) else value))
    else:
        raise ConfigError(f"unknown config key {key!r}")
    if reader.problems:
        raise ConfigError("; ".join(problem.removeprefix(": ") for problem in reader.problems))
    del accepted


def _is_width_key(key: str) -> bool:
    return key.startswith("list.widths.") and key.removeprefix("list.widths.") in BY_NAME


def _nest(key: str, value: object) -> dict:
    """``{"a": {"b": value}}`` for ``"a.b"``."""
    *tables, last = key.split(".")
    nested: dict = {last: value}
    for name in reversed(tables):
        nested = {name: nested}
    return nested


def _set(document: tomlkit.TOMLDocument, key: str, value: object, path: Path) -> None:
    """Set (or, for None, remove) one dotted key in ``document``, creating its tables."""
    import tomlkit  # here, not at module level: the app starts faster without a config file
    *tables, last = key.split(".")
    container: object = document
    for depth, name in enumerate(tables):
        if name not in container:  # type: ignore[operator]
            if value is None:
                return
            container[name] = tomlkit.table()  # type: ignore[index]
        container = container[name]  # type: ignore[index]
        if not isinstance(container, (tomlkit.items.Table, tomlkit.items.InlineTable)):
            where = ".".join(tables[: depth + 1])
            raise ConfigError(f"{_shown(path)}: {where} is not a table; cannot set {key} (fix or remove it)")
    if value is None:
        container.pop(last, None)  # type: ignore[attr-defined]
        return
    container[last] = _toml_value(value)  # type: ignore[index]


def _toml_value(value: object) -> object:
    """A tomlkit item for ``value``: long lists one item a line, mappings as tables."""
    import tomlkit  # here, not at module level: the app starts faster without a config file
    if isinstance(value, (list, tuple)):
        array = tomlkit.array()
        array.extend(value)
        if len(value) > 4:
            array.multiline(True)
        return array
    if isinstance(value, Mapping):
        table = tomlkit.table()
        for name, item in value.items():
            table[name] = item
        return table
    return value


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in its directory and a rename: a crash or
    a full disk leaves the old file whole. The file is 0600; a directory made here is 0700."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
    handle, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml.tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp makes it 0600
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def default_config_text() -> str:
    """The commented default file: every key of :data:`KEYS` with its meaning, commented out
    with its default (or an example), so the file changes nothing until a line is uncommented."""
    lines = [
        "# trailtui configuration (TOML). Every key is optional: a commented-out line shows the default",
        "# or an example. trailtui rewrites only the keys you change in the app (hiding a column, picking",
        "# a theme) and keeps your comments. Problems (a bad value, an unknown key) are shown when the",
        "# app starts, and the default is used instead.",
        f"# Location: ${CONFIG_ENV} if set, else $XDG_CONFIG_HOME/trailtui/config.toml",
        "# (~/.config/trailtui/config.toml on Linux).",
    ]
    section = ""
    for key in KEYS:
        if key.section != section:
            section = key.section
            lines += ["", f"[{section}]"]
        lines.append("")
        lines += [f"# {line}" for line in key.doc.splitlines()]
        lines += [f"# {line}" for line in key.example.splitlines()]
    return "\n".join(lines) + "\n"


def write_default_config(path: os.PathLike | str | None = None, *, overwrite: bool = False) -> Path:
    """Write :func:`default_config_text` to ``path`` (default :func:`config_path`), atomically,
    0600 (directory 0700). Returns the path. Raises ``FileExistsError`` when the file exists and
    ``overwrite`` is False (a user's file is never replaced by accident), ``OSError`` when it
    cannot be written."""
    path = Path(path).expanduser() if path is not None else config_path()
    if path.exists() and not overwrite:
        raise FileExistsError(f"{_shown(path)} already exists")
    _write_atomically(path.resolve() if path.is_symlink() else path, default_config_text())
    return path
