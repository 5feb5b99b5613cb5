"""Shared fixtures: the real corpus in ../shared (when present) and small log-file builders.

Records come from :mod:`trailtui.core.demo.records`, the builders the demo uses too."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from trailtui.core.demo import records

#: The real CloudTrail corpus beside the checkout (see ../shared/corpus/SOURCES.md). Its licences
#: forbid copying it into this repository, so tests read it in place and skip where it is absent.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path_factory, monkeypatch) -> None:
    """Every test gets its own cache, data and config directories (and config file): no test
    reads or writes the real ~/.cache/trailtui, marks in ~/.local/share or ~/.config."""
    base = tmp_path_factory.mktemp("home")
    for name in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(base / name.lower()))
    monkeypatch.setenv("TRAILTUI_CONFIG", str(base / "config.toml"))


@pytest.fixture
def corpus() -> Path:
    """The shared corpus folder; skips the test when ../shared/corpus is not beside the checkout."""
    if not CORPUS.is_dir():
        pytest.skip(f"real CloudTrail corpus not found at {CORPUS} (it lives in ../shared, outside the repo)")
    return CORPUS


def alice() -> dict:
    """IAM user alice signing with her long-term key ``AKIAEXAMPLEALICE0001``: :func:`make_event`'s caller."""
    return records.iam_user("alice", principal_id="AIDAEXAMPLEALICE", access_key_id="AKIAEXAMPLEALICE0001")


def make_event(event_id: str, name: str = "GetObject", **fields) -> dict:
    """A minimal but realistic CloudTrail record, built by :func:`trailtui.core.demo.records.api_call`:
    :func:`alice` calls ``name`` on S3 object ``finance-reports/q1/payroll.csv`` (a data event) at
    2026-03-14T10:00:00Z from 198.51.100.7. ``fields`` set any top-level field last, as given
    (``eventTime="..."``, ``userIdentity=...``, ``errorCode="AccessDenied"``)."""
    return records.api_call(
        name,
        "s3.amazonaws.com",
        user_identity=alice(),
        event_time="2026-03-14T10:00:00Z",
        event_id=event_id,
        source_ip_address="198.51.100.7",
        user_agent="aws-cli/2.15.30",
        read_only=True,
        request_parameters={"bucketName": "finance-reports", "key": "q1/payroll.csv"},
        management_event=False,
        **fields,
    )


def write_records(path: Path, events: list, *, gz: bool = False) -> Path:
    """Write an S3-delivery-shaped ``{"Records": [...]}`` file (gzipped if ``gz``).

    Serialised with :func:`json.dumps`, not the compact bytes of :mod:`trailtui.core.demo.delivery`,
    so an original event read back is exactly ``json.dumps(make_event(...))``, as tests compare.
    """
    data = json.dumps({"Records": events}).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path
