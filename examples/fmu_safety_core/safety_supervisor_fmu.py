"""The reference safety supervisor as an FMU: ``pythonfmu build -f safety_supervisor_fmu.py
reference_block.py <path of reference_impl>`` (see README.md)."""

from reference_block import ReferenceBlock

from reference_impl.functions.safety import SafetySupervisor


class SafetySupervisorFmu(ReferenceBlock):
    """The FMU's model class; the pack size is fixed when the FMU is built."""

    def __init__(self, cell_count=96, temperature_sensor_count=24, **kwargs):
        super().__init__("safety_supervisor", SafetySupervisor(),
                         {"cell": cell_count, "temperature_sensor": temperature_sensor_count},
                         **kwargs)
