"""The demo folder: :func:`write_demo_logs` writes the demo once per seed and version, each file
atomically (temporary file + rename) and a marker last, so an interrupted run is completed and a
complete one is left alone.

Under ``dest``: the S3 delivery layout of :mod:`trailtui.core.demo.delivery` and
``.trailtui-demo-<seed>``, the marker (JSON: generator, version, seed, files, events,
duplicates, and the ``paths`` written, relative to ``dest``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from trailtui.core.demo.delivery import deliver
from trailtui.core.demo.story import STORY, tell

#: Bumped whenever the generated demo changes, so a cached older demo is rewritten.
DEMO_VERSION = 1


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`write_demo_logs` wrote (or found already written).

    ``files`` counts the log files (``.json.gz`` holding ``Records``; the one digest file is not
    counted), ``events`` the records in them with re-delivered copies counted each time,
    ``duplicates`` the records delivered a second time (so ``events - duplicates`` distinct
    ``eventID`` values), ``root`` the folder holding ``AWSLogs``.
    """

    files: int
    events: int
    root: Path
    duplicates: int = 0

    @property
    def distinct_events(self) -> int:
        """Events once each (``events - duplicates``)."""
        return self.events - self.duplicates


def write_demo_logs(dest: Path, *, seed: int = 2026) -> DemoSummary:
    """Write the demo CloudTrail logs for ``seed`` under ``dest`` and return what is there.

    Deterministic: the same seed writes byte-identical files. Idempotent: when ``dest`` already
    holds the complete demo for this seed and :data:`DEMO_VERSION` (its marker file
    ``dest/.trailtui-demo-<seed>`` lists files that all exist), nothing is written. Otherwise the
    demo is (re)written, each file atomically, the marker last; files listed by an older demo
    marker in ``dest`` (another seed or version) and not part of this demo are removed, so
    ``dest`` holds one demo at a time. Nothing else in ``dest`` is touched. Raises OSError when
    ``dest`` cannot be written (a file already written stays whole).
    """
    dest = Path(dest)
    marker = dest / f".trailtui-demo-{seed}"
    found = _read_marker(marker, seed)
    if found is not None and all((dest / rel).is_file() for rel in found[1]):
        return found[0]

    recorder = tell(seed)
    delivery = deliver(recorder.events, recorder.rng, duplicates=STORY["duplicates"])
    files, digest, duplicates = delivery.log_files, delivery.digest, delivery.duplicates
    wanted = {rel for rel, _, _ in files} | {digest[0]}
    _remove_old_demos(dest, wanted)
    for rel, data, _ in files:
        _write_atomic(dest / rel, data)
    _write_atomic(dest / digest[0], digest[1])
    events = sum(count for _, _, count in files)
    summary = DemoSummary(files=len(files), events=events, root=dest, duplicates=duplicates)
    _write_atomic(
        marker,
        orjson.dumps(
            {
                "generator": "trailtui demo",
                "version": DEMO_VERSION,
                "seed": seed,
                "files": summary.files,
                "events": summary.events,
                "duplicates": summary.duplicates,
                "paths": sorted(wanted),
            },
            option=orjson.OPT_INDENT_2,
        ),
    )
    return summary


def _read_marker(marker: Path, seed: int) -> tuple[DemoSummary, list[str]] | None:
    try:
        data = orjson.loads(marker.read_bytes())
        if data.get("version") != DEMO_VERSION or data.get("seed") != seed:
            return None
        summary = DemoSummary(
            files=int(data["files"]),
            events=int(data["events"]),
            root=marker.parent,
            duplicates=int(data["duplicates"]),
        )
        paths = [str(p) for p in data["paths"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return summary, paths


def _remove_old_demos(dest: Path, keep: set[str]) -> None:
    """Delete the files listed by any demo marker in ``dest`` that this demo does not write."""
    if not dest.is_dir():
        return
    for old in sorted(dest.glob(".trailtui-demo-*")):
        try:
            paths = orjson.loads(old.read_bytes()).get("paths", [])
        except (OSError, ValueError, AttributeError):
            paths = []
        for rel in paths:
            if not isinstance(rel, str) or rel in keep or ".." in Path(rel).parts or Path(rel).is_absolute():
                continue
            try:
                (dest / rel).unlink()
            except OSError:
                pass
        try:
            old.unlink()
        except OSError:
            pass


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
