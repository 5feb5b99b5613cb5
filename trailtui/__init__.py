"""trailtui: a keyboard-driven terminal browser for AWS CloudTrail logs."""

__version__ = "0.1.0"
