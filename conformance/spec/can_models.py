"""Pydantic models of the CAN catalog, the spec file kind ``can_catalog`` (one file per bus).

A catalog says what travels on one bus of the architecture: its bit rate, and per frame
the identifier, data length, timing, senders and receivers, and the bit layout of every
signal, each mapped to a dictionary signal. Rules within one field or one frame that a
JSON Schema cannot state live here; rules that relate a frame to the dictionary or the
architecture, and the layout rules (overlaps, values that fit their bits, bus load), live
in :mod:`conformance.spec.can`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_IDENT = r"^[a-z][a-z0-9_]*$"
_NAME = r"^[a-z][a-z0-9]*(?:_[A-Za-z0-9]+)*$"

Ident = Annotated[str, Field(pattern=_IDENT, description="lower_snake_case identifier")]
Text = Annotated[str, Field(min_length=1)]

#: Data lengths a CAN FD frame may have beyond 8 bytes (ISO 11898-1:2015, DLC 9 … 15).
FD_LENGTHS = (12, 16, 20, 24, 32, 48, 64)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Field_(_Model):
    """Where a field sits in the payload: DBC conventions (little endian: ``start_bit`` is
    the least significant bit; big endian: the most significant one, sawtooth numbering)."""

    start_bit: int = Field(ge=0, le=511)
    length: int = Field(ge=1, le=64)
    byte_order: Literal["little_endian", "big_endian"] = "little_endian"


class ValueRange(_Model):
    """Closed interval of physical values."""

    min: float
    max: float


class CanSignal(Field_):
    """One dictionary signal (or one element of an array signal) in a frame."""

    signal: Annotated[str, Field(pattern=_NAME, description="a signal of the dictionary")]
    element: int | None = Field(
        default=None, ge=0,
        description="for an array signal: the element, or in a multiplexed frame the element "
                    "within the group of one multiplexer value (element = value × "
                    "elements_per_value + this)")
    signed: bool = False
    scale: float = Field(default=1.0, gt=0)
    offset: float = 0.0
    unit: Text = Field(description="the dictionary signal's unit ('1' if dimensionless)")
    range: ValueRange | None = Field(
        default=None,
        description="physical values transported; default the dictionary signal's range "
                    "(bool 0…1, enum its values); must lie inside it")
    multiplexed: bool = Field(default=False,
                              description="present only under the frame's multiplexer")
    multiplexer_values: list[int] | None = Field(
        default=None, min_length=1,
        description="the multiplexer values it is present under (default: every value)")
    description: Text | None = None

    @model_validator(mode="after")
    def _mux_values(self) -> CanSignal:
        if self.multiplexer_values is not None and not self.multiplexed:
            raise ValueError("'multiplexer_values' is only for a multiplexed signal")
        return self


class Multiplexer(Field_):
    """The multiplexer field of a frame: its value selects which signals the frame holds."""

    name: Ident
    count: int = Field(ge=1, description="values used: 0 … count-1, each sent once per cycle")
    elements_per_value: int | None = Field(
        default=None, ge=1,
        description="array elements a multiplexed array signal carries per value")
    elements_per_module: int | None = Field(
        default=None, ge=1,
        description="array elements of one module (one CMU): the values are numbered per "
                    "module, value = module × values_per_module + k carrying the module's "
                    "elements k × elements_per_value …, values_per_module = ⌈"
                    "elements_per_module / elements_per_value⌉ (the last value of a module "
                    "partly unused when it does not divide); none: value v carries the "
                    "array's elements v × elements_per_value …")
    description: Text

    @model_validator(mode="after")
    def _per_module(self) -> Multiplexer:
        if self.elements_per_module is not None and self.elements_per_value is None:
            raise ValueError("'elements_per_module' needs 'elements_per_value'")
        return self

    @property
    def values_per_module(self) -> int | None:
        """Multiplexer values one module's elements take (None: not numbered per module)."""
        if self.elements_per_module is None or self.elements_per_value is None:
            return None
        return -(-self.elements_per_module // self.elements_per_value)

    def element_of(self, value: int, element: int) -> int | None:
        """The array element that ``element`` of the group under multiplexer ``value``
        carries; None for an unused place past a module's last element."""
        per = self.elements_per_value
        if per is None:
            return None
        vpm, epm = self.values_per_module, self.elements_per_module
        if vpm is None or epm is None:
            return value * per + element
        module, k = divmod(value, vpm)
        local = k * per + element
        return module * epm + local if local < epm else None


class Counter(Field_):
    """Alive counter: incremented by one in each transmission, wrapping to 0 after its
    largest value (:attr:`E2e.counter_values`)."""


class Crc(Field_):
    """Checksum over the frame's other bytes (and the data id) by ``algorithm``."""

    algorithm: Literal["crc8_sae_j1850", "crc8_sae_j1850_zero"] = Field(
        description="crc8_sae_j1850: polynomial 0x1D, start and final XOR 0xFF (AUTOSAR "
                    "Crc_CalculateCRC8); crc8_sae_j1850_zero: same polynomial, start 0x00, no "
                    "final XOR (the variant AUTOSAR E2E profile 1 uses)")


#: Values of the AUTOSAR E2E profile 1 alive counter: 0 … 14, then 0 again; 15 is never
#: sent (AUTOSAR SWS E2E Library, profile 1: E2E_P01_MAXCOUNTER = 14).
P1_COUNTER_VALUES = 15


class E2e(_Model):
    """End-to-end protection of a frame: alive counter and CRC, and where they sit."""

    profile: Literal["autosar_e2e_p1", "obsa_counter_crc8"] = Field(
        description="autosar_e2e_p1: AUTOSAR E2E profile 1 (CRC-8 SAE J1850 over data id "
                    "and data, 4-bit counter 0 … 14, CRC on a byte, counter on a nibble "
                    "boundary); obsa_counter_crc8: CRC and a counter over all 2^length values, "
                    "without a data id")
    data_id: int | None = Field(default=None, ge=0, le=0xFFFF,
                                description="16-bit data id mixed into the CRC (profile 1)")
    counter: Counter
    crc: Crc
    max_delta_counter: int = Field(
        default=1, ge=1, le=14,
        description="largest counter step a receiver accepts (1: no frame may be lost)")

    @property
    def counter_values(self) -> int:
        """How many values the alive counter takes before it wraps to 0: 15 in AUTOSAR E2E
        profile 1 (0 … 14), else every value of its bits (2^length)."""
        if self.profile == "autosar_e2e_p1":
            return P1_COUNTER_VALUES
        return 1 << self.counter.length


class Cycle(_Model):
    """Periodic transmission: the period and the tolerance a receiver may expect."""

    period_ms: float = Field(gt=0)
    tolerance_ms: float = Field(ge=0)

    @model_validator(mode="after")
    def _tolerance(self) -> Cycle:
        if self.tolerance_ms >= self.period_ms:
            raise ValueError(f"expected a tolerance below the period {self.period_ms} ms, "
                             f"found {self.tolerance_ms} ms")
        return self


class Event(_Model):
    """Event-driven transmission; the bus load counts it at its smallest interval."""

    min_interval_ms: float = Field(gt=0, description="smallest time between two frames")
    trigger: Text


class Timeout(_Model):
    """What a receiver does when the frame stops arriving."""

    time_ms: float = Field(gt=0, description="age of the last valid frame that is a timeout")
    reaction: Text
    reaction_time_ms: float = Field(
        gt=0, description="bound from the timeout to the completed reaction")
    rx_timeout_fault: bool = Field(
        default=True,
        description="the receiver reports the timeout as rx_timeout in can_fault_flags; "
                    "false for a frame whose absence is a normal state (a charger that is "
                    "not plugged in), where the reaction alone follows")


class Frame(_Model):
    name: Ident
    id: int = Field(ge=0, le=0x1FFFFFFF, description="identifier (11-bit unless extended)")
    extended: bool = Field(default=False, description="29-bit identifier")
    fd: bool = Field(default=False, description="CAN FD: only where the payload needs it")
    dlc: int = Field(ge=0, le=64, description="data length in bytes")
    cycle: Cycle | None = None
    event: Event | None = None
    senders: list[Ident] = Field(min_length=1)
    receivers: list[Ident] = Field(min_length=1)
    timeout: Timeout | None = None
    multiplexer: Multiplexer | None = None
    e2e: E2e | None = None
    signals: list[CanSignal] = Field(
        default=[], description="none only for a frame whose counter and CRC are its payload")
    source: Text | None = Field(default=None, description="where its timing or layout comes from")
    description: Text

    @model_validator(mode="after")
    def _frame_rules(self) -> Frame:
        if (self.cycle is None) == (self.event is None):
            raise ValueError("give exactly one of 'cycle' (periodic) or 'event' (event-driven)")
        if not self.extended and self.id > 0x7FF:
            raise ValueError(f"id: expected an 11-bit id (<= 0x7FF) for a standard frame, found "
                             f"0x{self.id:X} (set extended: true for a 29-bit id)")
        if self.fd:
            if self.dlc > 8 and self.dlc not in FD_LENGTHS:
                raise ValueError(f"dlc: expected 0 … 8 or one of {FD_LENGTHS} for CAN FD, "
                                 f"found {self.dlc}")
        elif self.dlc > 8:
            raise ValueError(f"dlc: expected at most 8 bytes for classic CAN, found {self.dlc} "
                             "(set fd: true where the payload needs more)")
        if not self.signals and self.e2e is None:
            raise ValueError("signals: expected at least one signal, or an e2e counter and "
                             "CRC that are the whole payload, found neither")
        if any(s.multiplexed for s in self.signals) and self.multiplexer is None:
            raise ValueError("a multiplexed signal needs the frame's 'multiplexer'")
        return self


class Bus(_Model):
    id: Ident = Field(description="a bus of the architecture's topology links")
    title: Text
    bit_rate_bps: int = Field(gt=0, le=1_000_000, description="nominal (arbitration) bit rate")
    data_bit_rate_bps: int | None = Field(default=None, gt=0, le=8_000_000,
                                          description="CAN FD data-phase bit rate")
    max_load_pct: float = Field(gt=0, le=100,
                                description="largest worst-case bus load the catalog may plan")
    max_load_source: Text = Field(description="where that limit comes from")


class ExternalNode(_Model):
    """A node on the bus outside the BMS (the vehicle controller, a charger)."""

    id: Ident
    title: Text


class CanCatalog(_Model):
    kind: Literal["can_catalog"]
    bus: Bus
    external_nodes: list[ExternalNode] = []
    sources: list[Text] = Field(default=[], description="references the catalog draws on")
    frames: list[Frame] = Field(min_length=1)
