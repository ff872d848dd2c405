"""The module manifest: what a vendor claims (PICS) and how its module is configured (PIXIT).

One YAML file per module under test. It names the module, the spec version it was built
against, the profiles and optional features it claims, the battery pack it is specified
for, the value of every configuration parameter it declares, and how the bench reaches it
(the adapter). ``schemas/manifest.schema.json`` is generated from these models (see
:mod:`conformance.manifest.schema`); rules that need the spec live in
:mod:`conformance.manifest.check`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ..adapters.base import MIN_TIMEOUT_S
from ..spec.models import Ident, Name, Version

if TYPE_CHECKING:
    from ..spec.loader import Spec
    from ..spec.source import Located

ParameterValue = bool | int | float | str
"""A declared parameter value; its type is checked against the spec's parameter type."""

ComponentRef = Annotated[
    str,
    Field(
        min_length=1,
        description="'package.module:Class', or the name of an entry point in group obsa.adapters",
    ),
]


class _Model(BaseModel):
    # no NaN or infinity: the YAML reader refuses them with the line; this holds for code
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ModuleIdentity(_Model):
    """Who made the module and which build of it is under test."""

    # lengths: these are printed on the report's first line and on the certificate
    vendor: Annotated[str, Field(min_length=1, max_length=200)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    version: Annotated[str, Field(min_length=1, max_length=200,
                                  description="the vendor's version of the module")]
    software_hash: str | None = Field(
        default=None, max_length=200,
        description="hash of the software under test, copied into the report"
    )


class Pack(_Model):
    """The battery pack the module is specified for; sizes the array signals on the bench."""

    chemistry: Literal["nmc", "nca", "lfp", "lto", "lmo", "lco", "other"]
    cell_count: int = Field(ge=1, le=1000, description="series cells")
    temperature_sensor_count: int = Field(ge=1, le=1000, description="cell temperature sensors")
    # 1 mAh floor: below the smallest rechargeable cell a BMS manages (coin cells hold a few
    # mAh); a smaller capacity makes every current a runaway over-charge on the bench
    capacity_Ah: float = Field(ge=0.001, le=10000, description="rated capacity")


class AdapterSettings(_Model):
    """How the bench reaches the module's components."""

    type: Ident = Field(description="transport: 'python', or one registered in obsa.transports")
    # the transports' floor (MIN_TIMEOUT_S): one call crosses a process boundary and the OS
    # scheduler, whose delays on a loaded machine reach milliseconds; a shorter limit fails a
    # correct module at random (and a microsecond timer interrupts the bench without end)
    timeout_s: float | None = Field(
        default=1.0, ge=MIN_TIMEOUT_S, le=600,
        description="longest accepted duration of one call; null: no limit",
    )
    components: dict[Ident, ComponentRef] = Field(
        min_length=1, description="component id → how the transport finds that component"
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="transport-specific settings (command, port, file…)"
    )


class HmiHttp(_Model):
    """Where the bench reaches the module's HMI API over HTTP (feature hmi_http)."""

    url: str = Field(
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="base URL of the service; '{port}' in it: a free loopback port the bench "
                    "chooses and gives the module in the environment variable "
                    "OBSA_HMI_HTTP_PORT before it starts it")
    token: str | None = Field(
        default=None, min_length=8, max_length=200, pattern=r"^[A-Za-z0-9._~+/-]+=*$",
        description="the bearer token the service requires (RFC 6750 token68), given to the "
                    "module in OBSA_HMI_HTTP_TOKEN; null: a service without a token")
    startup_timeout_s: float = Field(
        default=30.0, gt=0, le=600,
        description="longest wait for the service to answer after the module is configured")


class Manifest(_Model):
    """A module manifest, as read from YAML (see :func:`conformance.manifest.load_manifest`)."""

    obsa_manifest: Literal["1.0"] = Field(description="version of the manifest format")
    module: ModuleIdentity
    spec_version: Version = Field(description="version of the OBSA spec the module implements")
    profiles: list[Ident] = Field(min_length=1, description="claimed profiles (PICS)")
    features: list[Ident] = Field(default_factory=list, description="claimed optional features")
    pack: Pack
    configuration: dict[Ident, dict[Name, ParameterValue]] = Field(
        default_factory=dict,
        description="component → declared parameter values (PIXIT), by spec parameter name",
    )
    adapter: AdapterSettings
    hmi_http: HmiHttp | None = Field(
        default=None, description="where the bench reaches the HMI API over HTTP (with the "
                                  "feature hmi_http)")

    _source: str = PrivateAttr(default="<manifest>")
    _located: Located | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """The file the manifest was read from (as shown in messages)."""
        return self._source

    def line(self, *path: str | int) -> int | None:
        """Line of a field in the manifest file (or of its nearest parent); None if unknown."""
        return self._located.line(tuple(path)) if self._located is not None else None

    def declared(self, component: str) -> dict[str, ParameterValue]:
        """The parameter values the manifest declares for ``component`` (may be empty)."""
        return dict(self.configuration.get(component, {}))

    def effective_parameters(self, spec: Spec, component: str) -> dict[str, Any]:
        """Spec defaults overlaid by the declared values: what ``configure()`` receives.

        Values take the parameter's spec type (an int declared for a float parameter becomes
        a float, an enum given by name becomes its number), so a module never has to guess.
        A parameter without a default that is not declared is left out;
        :func:`check_manifest` reports it for the claimed components. A parameter of an
        optional feature the manifest does not claim is left out too: the module does not
        have it.
        """
        itf = spec.interfaces[component]
        declared = self.configuration.get(component, {})
        claimed = set(self.features)
        out: dict[str, Any] = {}
        for param in itf.parameters:
            if param.feature is not None and param.feature not in claimed:
                continue
            value = declared.get(param.name, param.default)
            if value is None:
                continue
            out[param.name] = _as_spec_type(spec, param.type, param.enum, value)
        return out

    def dimensions(self, spec: Spec) -> dict[str, int]:
        """Length of every array dimension: the pack sizes the per-cell and per-sensor
        arrays, the spec fixes the others (one DTC per fault code)."""
        from ..spec.exporters.records import dimension_lengths

        return {
            "cell": self.pack.cell_count,
            "temperature_sensor": self.pack.temperature_sensor_count,
            **dimension_lengths(spec),
        }

    def claimed_components(self, spec: Spec) -> list[str]:
        """Components of every claimed profile, in execution order, without repeats.

        A profile's order is the execution order within a step, so the largest claimed
        profile sets it (``full_bms``: the hardware abstraction first, its readings used in
        the same step), whatever order the manifest lists its profiles in; the components
        of smaller profiles it does not hold follow in their own order."""
        known = [spec.profiles[pid] for pid in self.profiles if pid in spec.profiles]
        seen: dict[str, None] = {}
        for profile in sorted(known, key=lambda p: -len(p.components)):  # stable
            for component in profile.components:
                seen.setdefault(component, None)
        return list(seen)


def _as_spec_type(spec: Spec, kind: str, enum_id: str | None, value: Any) -> Any:
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "enum" and isinstance(value, str) and enum_id in spec.enums:
        for v in spec.enums[enum_id].values:
            if v.name == value:
                return v.value
    return value


def attach_source(manifest: Manifest, source: str | Path, located: Located | None) -> Manifest:
    """Remember where ``manifest`` came from, for messages and :attr:`Manifest.source`."""
    manifest._source = str(source)
    manifest._located = located
    return manifest
