"""The built-in demo behind ``trailtui --demo``: a small, realistic S3 data-theft incident.

:func:`write_demo_logs` writes CloudTrail log files the way a trail delivers them to S3, so a new
user can try trailtui with no logs of their own. Everything comes from one seeded
:class:`random.Random` and the files are gzipped with ``mtime=0``: the same seed gives
byte-identical files (with the same Python ``zlib``).

One concept per module:

- :mod:`.records`: record builders, the one place that knows how to build a realistic
  CloudTrail record (also used by the tests);
- :mod:`.setting`: the demo's account, people, keys, addresses and clock;
- :mod:`.recorder`: the seeded recorder (every random ID, what the trail logs);
- :mod:`.background` and :mod:`.story`: the routine day and the incident (:data:`STORY` holds
  the facts the README cites: one day 2026-03-14 of account 111122223333; ``ci-deploy``'s leaked
  key used from 198.51.100.23, 40 AccessDenied, AssumeRole into DataPipeline, 100 objects of
  finance-reports read, the bucket made public, ``backup-svc`` created, logging stopped; a root
  console sign-in without MFA; 15 anonymous GetObject on demo-public-assets);
- :mod:`.delivery`: the S3 delivery layout (files, names, re-deliveries, the digest);
- :mod:`.folder`: writing it once under a folder (atomic files, marker last).

Standard library plus orjson only; never imports textual.
"""

from __future__ import annotations

from trailtui.core.demo.folder import DEMO_VERSION, DemoSummary, write_demo_logs
from trailtui.core.demo.story import STORY

__all__ = ["DEMO_VERSION", "STORY", "DemoSummary", "write_demo_logs"]
