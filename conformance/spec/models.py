"""Pydantic models of every kind of spec file.

These models are the single definition of the spec format: the meta-schemas in
``schemas/spec-*.schema.json`` are generated from them (see
:mod:`conformance.spec.exporters.metaschema`) and a test fails when the checked-in
schemas drift. Structural rules live here; rules that relate several files
(references, units, ordering) live in :mod:`conformance.spec.validate`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .can_models import CanCatalog

SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$"
IDENT = r"^[a-z][a-z0-9_]*$"
NAME = r"^[a-z][a-z0-9]*(?:_[A-Za-z0-9]+)*$"
REQ_ID = r"^OBSA-[A-Z]{2,6}-[0-9]{3}$"

Ident = Annotated[str, Field(pattern=IDENT, description="lower_snake_case identifier")]
Name = Annotated[
    str,
    Field(pattern=NAME, description="snake_case name; a quantity ends in its unit: cell_voltage_V"),
]
ReqId = Annotated[str, Field(pattern=REQ_ID, description="OBSA-<AREA>-<NNN>")]
Version = Annotated[str, Field(pattern=SEMVER, description="semantic version")]
Text = Annotated[str, Field(min_length=1)]

ValueType = Literal["float", "int", "bool", "enum", "flags"]
Comparison = Literal["<=", "<", ">=", ">", "=="]
Level = Literal["mandatory", "optional", "conditional"]
Verification = Literal["test", "analysis", "inspection", "demonstration"]


class _Model(BaseModel):
    # no NaN or infinity anywhere: a range, default, limit or period must compare and add
    # (the YAML reader refuses them first, with the line; this holds for models built in code)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Range(_Model):
    """Closed interval; either bound may be omitted."""

    min: float | None = None
    max: float | None = None


# --------------------------------------------------------------------------- standard
class StandardFiles(_Model):
    architecture: Text
    dictionary: Text
    profiles: Text
    interfaces: list[Text] = Field(min_length=1, description="interface files, relative paths")
    requirements: list[Text] = Field(min_length=1, description="requirement files")
    can: list[Text] = Field(default=[], description="CAN catalog files, one per bus")


class Change(_Model):
    """One entry of the changelog: what a release changed, where, and why.

    Machine-readable so that a module declaring an older spec version is told what changed
    since (the manifest check quotes these entries).
    """

    version: Version = Field(description="the release that made the change")
    affects: list[Text] = Field(
        min_length=1, description="requirement ids, components or signals the change touches")
    change: Text
    reason: Text


class LifecycleRule(_Model):
    """One rule of how the bench drives every component block (configure, reset, step):
    what a module may rely on and what it must not assume."""

    id: Ident
    rule: Text
    reason: Text


class Standard(_Model):
    kind: Literal["standard"]
    name: Text
    title: Text
    version: Version
    status: Literal["draft", "candidate", "released"]
    description: Text
    files: StandardFiles
    lifecycle: list[LifecycleRule] = Field(
        default=[], description="how the bench drives every block: what a module may rely on")
    changelog: list[Change] = Field(default=[], description="newest release first")


# --------------------------------------------------------------------------- architecture
class Layer(_Model):
    id: Ident
    title: Text
    order: int = Field(ge=0, description="0 is closest to the hardware")
    description: Text


class Node(_Model):
    id: Ident
    title: Text
    role: Literal["master", "slave", "gateway"]
    multiplicity: Literal["1", "0..1", "1..n", "0..n"]
    description: Text


class Link(_Model):
    source: Ident = Field(description="node id")
    target: Ident = Field(description="node id")
    bus: Ident
    description: Text


class Topology(_Model):
    nodes: list[Node] = Field(min_length=1)
    links: list[Link] = []


class Component(_Model):
    id: Ident
    title: Text
    layer: Ident
    node: Ident
    description: Text


class Architecture(_Model):
    kind: Literal["architecture"]
    layers: list[Layer] = Field(min_length=1)
    topology: Topology
    components: list[Component] = Field(min_length=1)


# --------------------------------------------------------------------------- dictionary
class Unit(_Model):
    symbol: Text
    quantity: Text
    description: Text


class Dimension(_Model):
    id: Ident
    description: Text


class EnumValue(_Model):
    name: Ident
    value: int = Field(ge=0)
    description: Text


class EnumType(_Model):
    id: Ident
    description: Text
    values: list[EnumValue] = Field(min_length=1)


class Signal(_Model):
    name: Name
    type: ValueType
    unit: Text = Field(description="symbol from the dictionary's unit list; '1' if dimensionless")
    range: Range | None = None
    resolution: float | None = Field(default=None, gt=0)
    enum: Ident | None = Field(default=None, description="enum id, for type enum")
    flags_of: Ident | None = Field(
        default=None, description="component whose fault codes are the bits, for type flags"
    )
    dimension: Ident | None = Field(default=None, description="array over this dimension")
    source: Literal["plant", "external"] | None = Field(
        default=None,
        description="where the signal comes from when no component produces it: 'plant', the "
        "physical truth the bench simulates (read only by the hardware abstraction); "
        "'external', set by the vehicle, the charger, the operator or the network",
    )
    description: Text

    @property
    def start_value(self) -> float | int | bool:
        """What the signal (each element of an array signal) holds before anything produced
        it: 0.0, False, or 0 (the first enum value, no flag, no count)."""
        if self.type == "bool":
            return False
        return 0.0 if self.type == "float" else 0

    @model_validator(mode="after")
    def _type_fields(self) -> Signal:
        if self.type == "enum" and self.enum is None:
            raise ValueError("a signal of type 'enum' needs 'enum'")
        if self.type != "enum" and self.enum is not None:
            raise ValueError(f"'enum' is only for type 'enum', not '{self.type}'")
        if self.type == "flags" and self.flags_of is None:
            raise ValueError("a signal of type 'flags' needs 'flags_of'")
        if self.type != "flags" and self.flags_of is not None:
            raise ValueError(f"'flags_of' is only for type 'flags', not '{self.type}'")
        return self


class Dictionary(_Model):
    kind: Literal["dictionary"]
    units: list[Unit] = Field(min_length=1)
    dimensions: list[Dimension] = []
    enums: list[EnumType] = []
    signals: list[Signal] = Field(min_length=1)


# --------------------------------------------------------------------------- interfaces
class Parameter(_Model):
    """A configuration value of a component; declared by a module in its manifest (PIXIT)."""

    name: Name
    type: Literal["float", "int", "bool", "enum"]
    unit: Text
    range: Range | None = None
    default: float | int | bool | str | None = None
    enum: Ident | None = None
    feature: Ident | None = Field(
        default=None,
        description="the optional feature this parameter belongs to: a module declares it "
                    "when it claims the feature, and neither declares nor receives it when not")
    description: Text


class Port(_Model):
    """An input or output of a component: a dictionary signal, by name."""

    signal: Name
    description: Text | None = None


class FaultCode(_Model):
    name: Ident
    bit: int = Field(ge=0, le=31, description="bit in the component's flags signals")
    dtc: int = Field(ge=1, le=0xFFFF, description="diagnostic trouble code, unique in the spec")
    severity: Literal["warning", "derate", "fault", "lockout"]
    description: Text


class LimitLevels(_Model):
    mol: Name = Field(description="parameter holding the maximum operating limit")
    rsl: Name = Field(description="parameter holding the recommended safety limit")
    msl: Name = Field(description="parameter holding the maximum safety limit")


class LimitSet(_Model):
    """A quantity supervised on three levels; the suite checks MOL < RSL < MSL (upper).

    Each limit has its own hysteresis and fault delay, as real designs keep them (an AFE's
    over- and under-voltage delays are separate registers)."""

    quantity: Ident
    direction: Literal["upper", "lower"]
    levels: LimitLevels
    hysteresis: Name = Field(description="parameter: how far back inside a limit its flags "
                                         "clear (same unit as the levels; K for degC)")
    fault_delay: Name = Field(description="parameter: debounce time from beyond the MSL to "
                                          "the latched fault, s")
    description: Text


class Characterization(_Model):
    """The cell the bench simulates, handed to a component at configure: a state estimator
    is judged on cells it is told about as a real one is calibrated for its cell."""

    format: Literal["obsa-ecm/1"] = Field(
        description="the document's format: obsa-ecm/1, the OCV per temperature and the "
                    "equivalent-circuit fit of the nominal cell (vectors/README.md)")
    parameter: Name = Field(default="cell_characterization",
                            description="the key configure() receives the document under; "
                                        "the bench supplies it, a manifest never declares it")
    overrides: dict[Name, str] = Field(
        default_factory=dict,
        description="parameter → field of the document (dotted path) that the bench gives "
                    "it: the values that describe the simulated cell, not the module's own")
    bpx_parameter: Name = Field(
        default="cell_bpx",
        description="the key configure() also receives the same nominal cell under as a BPX "
                    "document (Battery Parameter eXchange, which PyBaMM reads and writes: each "
                    "electrode's OCP, particle radius and diffusivity, the electrolyte), where "
                    "the vector names one: for an estimator on a physics-based model. The "
                    "bench supplies it, a manifest never declares it")
    description: Text


class WireKey(_Model):
    """A key of a wire record that is no signal of the dictionary."""

    name: Ident
    description: Text


class Topic(_Model):
    """An MQTT topic of a component's wire format."""

    name: Ident = Field(description="what the topic carries, as code refers to it")
    pattern: str = Field(pattern=r"^[a-z0-9_]+(/([a-z0-9_]+|\{[a-z_]+\}))*$",
                         description="the topic, '/'-separated levels; {placeholder} levels "
                                     "are filled in by the deployment (e.g. {gateway_id})")
    qos: int = Field(ge=0, le=2, description="MQTT quality of service of every message")
    retain: bool
    payload: Literal["record", "status"] = Field(
        description="record: one wire record (JSON); status: the publisher's presence, "
                    "the JSON object {\"online\": true|false}, false as its last will")
    description: Text


class Wire(_Model):
    """How a component's records travel beyond the bench: a JSON object per record whose
    keys are the dictionary signals it lists, plus a sequence number and a time stamp."""

    encoding: Literal["json"]
    sequence: WireKey = Field(description="the record's number: consecutive integers from "
                                          "0 per publisher, kept across restarts")
    timestamp: WireKey = Field(description="the record's wall-clock time, Unix time in s")
    fields: list[Name] = Field(min_length=1, description="outputs of the interface the record "
                                                         "carries, each under its own name")
    topics: list[Topic] = Field(min_length=1)
    description: Text


class HttpLimits(_Model):
    """Parameters of another component a resource serves beside its data (not judged)."""

    component: Ident
    parameters: list[Name] = Field(min_length=1)
    description: Text


class HttpResource(_Model):
    """A resource of a component's HTTP binding: what it carries, under which path."""

    name: Ident = Field(description="the key it is served under where resources are combined")
    path: str = Field(pattern=r"^/[a-z0-9_-]+(/[a-z0-9_-]+)*$", description="absolute path")
    media_type: Literal["application/json", "text/event-stream"]
    summary: Text
    outputs: list[Name] = Field(default=[], description="outputs of the interface it carries")
    inputs: list[Name] = Field(default=[], description="inputs it serves unchanged, as of the "
                                                       "snapshot")
    dtc_rows: Name | None = Field(default=None, description="an output along the dtc "
                                  "dimension served as one row per DTC of the spec's table")
    limits: HttpLimits | None = None
    includes: list[Ident] = Field(default=[], description="other resources it serves in one "
                                                          "object, each under its name")
    required: bool = Field(default=True, description="false: a binding may leave it out "
                                                     "(a client then polls)")


class Http(_Model):
    """How a component's outputs are served over HTTP: read-only JSON resources."""

    description: Text
    write_methods: list[Literal["POST", "PUT", "PATCH", "DELETE"]] = Field(
        min_length=1, description="the methods every resource refuses")
    resources: list[HttpResource] = Field(min_length=1)

    def resource(self, name: str) -> HttpResource:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(f"the HTTP binding has no resource '{name}'")


class Interface(_Model):
    kind: Literal["interface"]
    component: Ident
    step_period_s: float = Field(gt=0, description="nominal step period")
    description: Text
    parameters: list[Parameter] = []
    inputs: list[Port] = []
    outputs: list[Port] = Field(min_length=1)
    fault_codes: list[FaultCode] = []
    limit_sets: list[LimitSet] = []
    characterization: Characterization | None = Field(
        default=None, description="the simulated cell's data configure() receives (state "
                                  "estimators)")
    wire: Wire | None = Field(default=None, description="the records' format on the wire "
                                                        "(telemetry)")
    http: Http | None = Field(default=None, description="the binding of the outputs to HTTP "
                                                        "resources (HMI API)")

    @model_validator(mode="after")
    def _overrides_are_parameters(self) -> Interface:
        if self.characterization is not None:
            names = {p.name for p in self.parameters}
            unknown = sorted(set(self.characterization.overrides) - names)
            if unknown:
                raise ValueError(f"characterization.overrides: expected parameters of "
                                 f"{self.component}, found {', '.join(unknown)}")
            for field in ("parameter", "bpx_parameter"):
                key = getattr(self.characterization, field)
                if key in names:
                    raise ValueError(f"characterization.{field}: '{key}' is a declared "
                                     "parameter of the interface; expected a key of its own")
            if self.characterization.parameter == self.characterization.bpx_parameter:
                raise ValueError("characterization: parameter and bpx_parameter are the same "
                                 f"key '{self.characterization.parameter}'; expected two")
        return self


# --------------------------------------------------------------------------- requirements
class Criterion(_Model):
    """A named, numeric acceptance criterion: ``measured <comparison> limit``.

    The limit is either a fixed ``value`` of the standard or the module's declared
    value of a component ``parameter`` (PIXIT) — exactly one of the two.
    """

    name: Name
    comparison: Comparison
    value: float | None = None
    parameter: Name | None = None
    unit: Text
    resolution: Literal["step"] | None = Field(
        default=None,
        description="'step': measured value and limit are compared in whole step periods of "
                    "the requirement's component (the rule for every time, unit s)")
    description: Text

    @model_validator(mode="before")
    @classmethod
    def _time_resolution(cls, data: object) -> object:
        """A time criterion (unit s) compares on the step, stated or not."""
        if isinstance(data, dict) and data.get("unit") == "s" and data.get("resolution") is None:
            return {**data, "resolution": "step"}
        return data

    @model_validator(mode="after")
    def _one_limit(self) -> Criterion:
        if (self.value is None) == (self.parameter is None):
            raise ValueError("give exactly one of 'value' or 'parameter'")
        return self


class Requirement(_Model):
    id: ReqId
    title: Text
    statement: Text
    rationale: Text
    component: Ident
    profiles: list[Ident] = Field(
        default=[], description="the profiles that hold it; none only while it is a draft")
    status: Literal["active", "draft"] = Field(
        default="active",
        description="'draft': stated, but no test case judges it yet and no profile holds it, "
                    "so no module can claim it")
    level: Level
    condition: Text | None = Field(
        default=None, description="expression over feature ids: and, or, not, parentheses"
    )
    verification: Verification
    since: Version
    acceptance: list[Criterion] = []

    @model_validator(mode="after")
    def _level_rules(self) -> Requirement:
        if self.level == "conditional" and not self.condition:
            raise ValueError("a conditional requirement needs a 'condition'")
        if self.level != "conditional" and self.condition:
            raise ValueError("'condition' is only for level 'conditional'")
        if not re.search(r"\bshall\b", self.statement):
            raise ValueError("the statement must be a 'shall' statement")
        if self.verification == "test" and not self.acceptance:
            raise ValueError("a requirement verified by test needs acceptance criteria")
        if self.status == "active" and not self.profiles:
            raise ValueError("expected at least one profile for an active requirement, found "
                             "none (a requirement no profile holds yet is status 'draft')")
        if self.status == "draft" and self.profiles:
            raise ValueError(f"expected no profiles for a draft requirement (a module could "
                             f"claim it before any test case judges it), found "
                             f"{', '.join(self.profiles)}")
        return self


class RequirementFile(_Model):
    kind: Literal["requirements"]
    area: Annotated[str, Field(pattern=r"^[A-Z]{2,6}$")]
    title: Text
    requirements: list[Requirement] = Field(min_length=1)


# --------------------------------------------------------------------------- profiles
class Feature(_Model):
    id: Ident
    title: Text
    description: Text


class Profile(_Model):
    id: Ident
    title: Text
    description: Text
    components: list[Ident] = Field(min_length=1, description="in execution order")
    node: Ident | None = Field(
        default=None,
        description="for a profile judged on the CAN buses: the node of the architecture's "
                    "topology a module claiming it is (its frames are the catalog's frames of "
                    "that node)")


class Profiles(_Model):
    kind: Literal["profiles"]
    features: list[Feature] = []
    profiles: list[Profile] = Field(min_length=1)


KINDS: dict[str, type[BaseModel]] = {
    "standard": Standard,
    "architecture": Architecture,
    "dictionary": Dictionary,
    "interface": Interface,
    "requirements": RequirementFile,
    "profiles": Profiles,
    "can_catalog": CanCatalog,
}
