"""Keys are declared once (tui/keys.py): every binding, the help screen and the README come
from that table, so none of them can drift from what a key does."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from trailtui.tui import keys
from trailtui.tui.app import TrailApp
from trailtui.tui.keys import KEYS, SECTIONS, bindings, markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def _classes_with_bindings() -> list[type]:
    """Every trailtui widget, screen and app class that declares BINDINGS."""
    import importlib
    import pkgutil

    import trailtui.tui

    found = []
    for module_info in pkgutil.iter_modules(trailtui.tui.__path__):
        module = importlib.import_module(f"trailtui.tui.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and "BINDINGS" in vars(value):
                found.append(value)
    return found


def test_key_ids_are_unique_and_scoped() -> None:
    ids = [key.id for key in KEYS]
    assert len(ids) == len(set(ids))
    assert {key.scope for key in KEYS} <= set(SECTIONS)


def test_every_binding_of_every_widget_comes_from_the_table() -> None:
    classes = _classes_with_bindings()
    assert TrailApp in classes and len(classes) > 10
    table = {key.id: key for key in KEYS}
    for cls in classes:
        for binding in vars(cls)["BINDINGS"]:
            assert isinstance(binding, Binding), f"{cls.__name__} has a binding outside keys.KEYS: {binding!r}"
            assert binding.id in table, f"{cls.__name__}: binding {binding.key!r} has no id in keys.KEYS"
            key = table[binding.id]
            assert (binding.key, binding.action) == (key.keys, key.action)


def test_every_key_of_the_table_is_bound_somewhere_or_handled_by_a_textual_widget() -> None:
    bound = {binding.id for cls in _classes_with_bindings() for binding in vars(cls)["BINDINGS"]}
    unbound = {key.id for key in KEYS if key.action is not None} - bound
    assert not unbound, f"keys declared but bound nowhere: {sorted(unbound)}"


def test_help_lists_every_key_that_help_shows() -> None:
    from rich.console import Console

    from trailtui.tui.help_screen import help_text

    console = Console(width=250, record=True)
    console.print(help_text())
    shown = " ".join(console.export_text().split())  # one line: help may wrap
    listed = [key for key in KEYS if key.in_help]
    assert len(listed) > 60
    for key in listed:
        assert " ".join(key.help.split()) in shown, key.id
        assert key.shown_keys in shown, key.id
    assert "sort by the current column, ascending / descending (by the index)" in shown  # spot check


def test_readme_key_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    assert markdown_table() in text, "README's key table is stale: paste `python -m trailtui.tui.keys` into it"


def test_footer_keys_put_help_first_so_80_columns_show_it() -> None:
    # The footer lists the focused screen's keys before the app's.
    footer = [binding for binding in bindings("main") + bindings("app") if binding.show]
    assert footer[0].action == "app.help"
    sheet = [binding for binding in bindings("sheet") if binding.show]
    assert sheet[0].action == "app.help"


def test_typed_characters_get_the_key_names_textual_gives_them() -> None:
    from textual.keys import _character_to_key  # private: only to check key_for against it

    for character in "aZ7/ :-_'!?[]<>+.,@#~\\":
        assert keys.key_for(character) == _character_to_key(character), character


def test_key_labels_read_as_a_person_reads_them() -> None:
    assert keys.key_label("question_mark") == "?"
    assert keys.key_label("ctrl+s") == "Ctrl+S"
    assert keys.key_label("left_square_bracket") == "["
    assert keys.key_label("pagedown") == "PgDn"
    assert keys.key_label("G") == "G"
