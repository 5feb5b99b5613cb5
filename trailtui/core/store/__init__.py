"""The index on disk: one SQLite file per set of logs, and everything that writes or reads it raw.

- :mod:`~trailtui.core.store.schema`: the tables, indexes and ``events_view``, declared once;
- :mod:`~trailtui.core.store.index`: opening, creating, locking and rebuilding index files;
- :mod:`~trailtui.core.store.shard`: a loader worker's batch of events in a private SQLite file;
- :mod:`~trailtui.core.store.writer`: merging shards in, replacing files, settling duplicates;
- :mod:`~trailtui.core.store.free_text`: the full-text index, filled after the field indexes;
- :mod:`~trailtui.core.store.originals` and :mod:`~trailtui.core.store.rawstore`: an event's
  original bytes, read back from its file or from what was kept.
"""
