"""The reference diagnostics (fault memory) as an FMU (see README.md)."""

from reference_block import ReferenceBlock

from reference_impl.interfaces import DTC_TABLE
from reference_impl.services.diagnostics import Diagnostics


class DiagnosticsFmu(ReferenceBlock):
    """The FMU's model class."""

    def __init__(self, **kwargs):
        super().__init__("diagnostics", Diagnostics(), {"dtc": len(DTC_TABLE)}, **kwargs)
