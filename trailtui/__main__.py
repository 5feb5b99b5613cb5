"""``python -m trailtui``: the same as the ``trailtui`` command."""

from trailtui.cli import main

# Guarded: the background loader starts with multiprocessing's "spawn", which imports this module.
if __name__ == "__main__":
    raise SystemExit(main())
