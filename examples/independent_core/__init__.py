"""An independent BMU safety core: safety supervisor, contactor manager and fault memory.

Written from the spec alone (interface descriptions, dictionary, requirements), without the
reference implementation, and deliberately built another way: a table-driven supervisor
with leaky violation integrators, a contactor manager that is an explicit transition table
and a fault memory that is an event log with a projection. It must pass the conformance
suite: that shows the suite tests the standard, not the reference implementation's quirks
(DESIGN.md §5). ``manifest.yaml`` next to this file declares it; certify it with
``obsa certify examples/independent_core/manifest.yaml --out <dir>``.
"""

from .contactors import ContactorManager
from .fault_memory import FaultMemory
from .supervisor import SafetySupervisor

__all__ = ["ContactorManager", "FaultMemory", "SafetySupervisor"]
