"""Raises KeyboardInterrupt while being imported, as if someone pressed Ctrl-C."""

from reference_impl.functions.safety import SafetySupervisor as Module

raise KeyboardInterrupt

__all__ = ["Module"]
