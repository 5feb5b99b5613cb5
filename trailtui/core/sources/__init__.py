"""Where log files come from, before they are read.

- :mod:`~trailtui.core.sources.layout`: CloudTrail's S3 key layout (pure: where a prefix stops,
  which day folders a time window needs);
- :mod:`~trailtui.core.sources.s3`: ``s3://`` sources: pruned listing, downloads into the
  index's private cache, the cache's paths;
- :mod:`~trailtui.core.sources.follow`: following new deliveries after the first load (local
  trees watched and rescanned, S3 day folders polled), round after round.

Local files and directories are walked by :mod:`trailtui.core.discover`.
"""
