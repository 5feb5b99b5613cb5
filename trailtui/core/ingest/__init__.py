"""From a log file's bytes to rows for the index: the CPU-bound half of loading, run in workers.

- :mod:`~trailtui.core.ingest.decode`: gunzip, the file shapes (``{"Records": [...]}``, arrays,
  JSON Lines, lookup-events output), strict iterative parsing for hostile nesting, each
  record's byte span;
- :mod:`~trailtui.core.ingest.typed_records`: the fast path, msgspec Structs for the indexed
  fields of a whole delivery file in one call (the reference path above is its fallback);
- :mod:`~trailtui.core.ingest.extract`: one event's index columns, identity keys, S3 levels and
  free-text body;
- :mod:`~trailtui.core.ingest.prepare`: a file's rows, bodies and kept originals, for a shard.
"""
