"""The layers hold: the import-linter contracts in pyproject.toml are kept.

``trailtui.core`` is headless: it imports neither ``textual`` nor ``trailtui.tui``, directly or
through another module, so the loader process, the ``index`` / ``query`` commands and any
script using the core never load the UI. The contract lives in ``[tool.importlinter]``;
``lint-imports`` checks it by hand, and this test runs it with every ``pytest``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomlkit

ROOT = Path(__file__).resolve().parents[1]


def contracts() -> list[dict]:
    """The ``[[tool.importlinter.contracts]]`` tables of pyproject.toml."""
    data = tomlkit.parse((ROOT / "pyproject.toml").read_text(encoding="utf-8")).unwrap()
    return data.get("tool", {}).get("importlinter", {}).get("contracts", [])


def test_core_is_forbidden_to_import_textual_and_the_tui() -> None:
    # The contract itself is there: without it, lint-imports would pass on nothing.
    forbidden = [
        contract for contract in contracts()
        if contract.get("type") == "forbidden" and "trailtui.core" in contract.get("source_modules", [])
    ]
    assert forbidden, "pyproject.toml has no forbidden contract for trailtui.core"
    assert {"textual", "trailtui.tui"} <= {module for c in forbidden for module in c["forbidden_modules"]}


def test_import_contracts_are_kept() -> None:
    # The lint-imports of the interpreter running the tests (the project's venv); --no-cache:
    # no cache folder written into the checkout.
    lint_imports = Path(sys.executable).with_name("lint-imports")
    assert lint_imports.exists(), f"{lint_imports} not found: install the test extra (pip install -e '.[test]')"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for contract in contracts():
        assert f"{contract['name']} KEPT" in output, output
