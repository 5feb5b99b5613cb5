"""Find the files under the paths a user gave.

Directories are walked recursively, following symbolic links but never entering the same
directory twice (a link loop is reported, not followed). Hidden entries (``.git``, ``.DS_Store``)
are walked like any other: nothing the user gave is dropped silently; files that are not logs
are skipped later, with a reason, by :mod:`trailtui.core.ingest.decode`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


class InputPathError(ValueError):
    """A path the user named does not exist or is neither a file nor a directory (usage error)."""


@dataclass
class Discovery:
    """Result of :func:`discover_files`.

    ``files`` are absolute paths (not resolved through links, so they read as the user's tree),
    sorted, each once; ``problems`` are ``(path, message)`` pairs for directories that could not be
    read and link loops.
    """

    files: list[Path] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def discover_files(paths: list[str | os.PathLike]) -> Discovery:
    """Return every file under ``paths`` (files are taken as they are, directories walked).

    Raises :class:`InputPathError` naming the first path that does not exist.
    """
    found = Discovery()
    seen_files: set[str] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for given in paths:
        path = Path(given).expanduser().absolute()
        if not path.exists():
            raise InputPathError(f"{given}: no such file or directory")
        if path.is_file():
            _add(found, seen_files, path)
        elif path.is_dir():
            _walk(path, found, seen_files, seen_dirs)
        else:
            raise InputPathError(f"{given}: not a regular file or directory")
    found.files.sort()
    return found


def _add(found: Discovery, seen: set[str], path: Path) -> None:
    key = os.path.realpath(path)
    if key not in seen:
        seen.add(key)
        found.files.append(path)


def _walk(top: Path, found: Discovery, seen_files: set[str], seen_dirs: set[tuple[int, int]]) -> None:
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            info = directory.stat()
        except OSError as err:
            found.problems.append((str(directory), f"cannot read directory: {err.strerror or err}"))
            continue
        identity = (info.st_dev, info.st_ino)
        if identity in seen_dirs:
            if directory.is_symlink():
                found.problems.append((str(directory), "symbolic link loop (directory already walked), not followed"))
            continue
        seen_dirs.add(identity)
        try:
            with os.scandir(directory) as entries:
                children = sorted(entries, key=lambda entry: entry.name)
        except OSError as err:
            found.problems.append((str(directory), f"cannot read directory: {err.strerror or err}"))
            continue
        subdirs = []
        for entry in children:
            child = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=True):
                    subdirs.append(child)
                elif entry.is_file(follow_symlinks=True):
                    _add(found, seen_files, child)
                elif entry.is_symlink():
                    found.problems.append((str(child), "broken symbolic link"))
            except OSError as err:
                found.problems.append((str(child), f"cannot stat: {err.strerror or err}"))
        stack.extend(reversed(subdirs))
