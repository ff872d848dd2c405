"""The spec API: load, validate and query the standard."""

from .loader import Spec, SpecError, check_spec, load_spec, read_spec
from .source import Issue, ReadError

__all__ = ["Issue", "ReadError", "Spec", "SpecError", "check_spec", "load_spec", "read_spec"]
