"""Raises its own BaseException subclass (not an Exception) while being imported."""

from reference_impl.functions.safety import SafetySupervisor as Module


class LicenceRevoked(BaseException):
    pass


raise LicenceRevoked("no seat available")

__all__ = ["Module"]
