"""trailtui's benchmark harness: ``python -m benchmarks.run`` (see ``benchmarks/README.md``).

Not part of the installed package; it drives trailtui (the CLI, :mod:`trailtui.core` and the
Textual app) from the outside, in subprocesses, and compares it with DuckDB and ``jq``.
"""
