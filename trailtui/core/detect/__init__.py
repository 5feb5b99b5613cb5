"""Detections: Sigma rules compiled (with pySigma) to trailtui filters.

- :mod:`~trailtui.core.detect.backend`: the pySigma backend that writes a rule's detection as a
  filter of trailtui's grammar (CloudTrail's field names as they are);
- :mod:`~trailtui.core.detect.rules`: rule files loaded as :class:`~trailtui.core.detect.rules.Rule`
  (id, title, level, ATT&CK tags, filter), every unusable file or rule named with its reason, and
  the events a rule hits in an index.
"""
