"""Detections: Sigma rules compiled (with pySigma) to trailtui filters.

- :mod:`~trailtui.core.detect.backend`: the pySigma backend that writes a rule's detection as a
  filter of trailtui's grammar (CloudTrail's field names as they are).
"""
