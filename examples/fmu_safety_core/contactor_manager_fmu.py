"""The reference contactor manager as an FMU (see README.md)."""

from reference_block import ReferenceBlock

from reference_impl.functions.contactors import ContactorManager


class ContactorManagerFmu(ReferenceBlock):
    """The FMU's model class."""

    def __init__(self, **kwargs):
        super().__init__("contactor_manager", ContactorManager(), {}, **kwargs)
