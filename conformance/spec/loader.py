"""The one loader of the spec: YAML files → validated pydantic models.

Every other part of the project reads the standard through :func:`load_spec`;
nothing downstream opens the YAML itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
from pydantic import BaseModel, ValidationError

from ..paths import schemas_dir, spec_dir
from .can_models import CanCatalog
from .models import (
    KINDS,
    Architecture,
    Component,
    Dictionary,
    EnumType,
    FaultCode,
    Interface,
    Profile,
    Profiles,
    Requirement,
    RequirementFile,
    Signal,
    Standard,
)
from .source import Issue, Located, PathKey, ReadError, YAMLSyntax, dotted, read_yaml

M = TypeVar("M", bound=BaseModel)


class SpecError(Exception):
    """The spec is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass
class Spec:
    """The whole standard, as models, with the origin of every model object."""

    root: Path
    standard: Standard
    architecture: Architecture
    dictionary: Dictionary
    profiles_file: Profiles
    interfaces: dict[str, Interface]
    requirement_files: list[RequirementFile]
    sources: dict[str, Located] = field(repr=False)
    can_catalogs: list[CanCatalog] = field(default_factory=list)
    _origin: dict[int, tuple[str, PathKey]] = field(repr=False, default_factory=dict)

    # ---- lookups -------------------------------------------------------------
    @functools.cached_property
    def version(self) -> str:
        return self.standard.version

    @functools.cached_property
    def signals(self) -> dict[str, Signal]:
        return {s.name: s for s in self.dictionary.signals}

    @functools.cached_property
    def enums(self) -> dict[str, EnumType]:
        return {e.id: e for e in self.dictionary.enums}

    @functools.cached_property
    def components(self) -> dict[str, Component]:
        return {c.id: c for c in self.architecture.components}

    @functools.cached_property
    def profiles(self) -> dict[str, Profile]:
        return {p.id: p for p in self.profiles_file.profiles}

    @functools.cached_property
    def features(self) -> set[str]:
        return {f.id for f in self.profiles_file.features}

    @functools.cached_property
    def requirements(self) -> dict[str, Requirement]:
        return {r.id: r for f in self.requirement_files for r in f.requirements}

    @functools.cached_property
    def dtc_table(self) -> list[tuple[str, FaultCode]]:
        """(component, fault code) of every fault code, in ascending DTC order: the order of
        the ``dtc`` dimension (one entry per diagnostic trouble code)."""
        rows = [(fc.dtc, comp, fc) for comp, itf in self.interfaces.items()
                for fc in itf.fault_codes]
        return [(comp, fc) for _, comp, fc in sorted(rows, key=lambda r: (r[0], r[1]))]

    def requirements_of_profile(self, profile: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if profile in r.profiles]

    # ---- origins -------------------------------------------------------------
    def where(self, obj: BaseModel, *subpath: str | int) -> tuple[str, int | None, str]:
        """(file, line, dotted field path) of a model object, or of a field inside it."""
        file, path = self._origin[id(obj)]
        full = path + tuple(subpath)
        return file, self.sources[file].line(full), dotted(full)

    def issue(self, obj: BaseModel, subpath: tuple[str | int, ...], message: str) -> Issue:
        file, line, fld = self.where(obj, *subpath)
        return Issue(file, line, fld, message)


# ---------------------------------------------------------------------------- reading
@functools.cache
def _metaschema(kind: str) -> jsonschema.protocols.Validator:
    path = schemas_dir() / f"spec-{kind}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _schema_issues(doc: Located, kind: str) -> list[Issue]:
    return schema_issues(doc, _metaschema(kind))


#: Schema errors reported per file: a list of 20 000 wrong items is one mistake repeated,
#: and a person reads the first ones; the last issue says how many more there are.
MAX_SCHEMA_ISSUES = 50


def schema_issues(doc: Located, validator: jsonschema.protocols.Validator) -> list[Issue]:
    """Every JSON Schema error of a YAML document (up to :data:`MAX_SCHEMA_ISSUES`), located
    at its file, line and field."""
    issues = []
    errors = sorted(validator.iter_errors(doc.data), key=_path_key)
    if len(errors) > MAX_SCHEMA_ISSUES:
        first = errors[MAX_SCHEMA_ISSUES]
        path = tuple(first.absolute_path)
        more = Issue(doc.file, doc.line(path), dotted(path),
                     f"... and {len(errors) - MAX_SCHEMA_ISSUES} more problems like the ones "
                     "above, not shown")
        errors = errors[:MAX_SCHEMA_ISSUES]
    else:
        more = None
    for err in errors:
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            # point at the first unexpected key rather than at its parent mapping
            allowed = err.schema.get("properties", {})
            extra = [k for k in err.instance if k not in allowed]
            if extra:
                path = path + (extra[0],)
        issues.append(Issue(doc.file, doc.line(path), dotted(path), _explain(err)))
    return issues + ([more] if more else [])


def _path_key(err: jsonschema.ValidationError) -> list[tuple[bool, int, str]]:
    """Sort key for error paths that mix list indices and mapping keys."""
    return [(isinstance(p, str), p if isinstance(p, int) else 0, str(p)) for p in err.path]


def _explain(err: jsonschema.ValidationError) -> str:
    if err.validator in ("anyOf", "oneOf") and err.context:
        # e.g. ``float | None``: explain the branch whose type matched, not "not valid under any"
        near = [e for e in err.context if e.validator != "type"]
        if len(near) == 1:
            return _explain(near[0])
        types = [e.validator_value for e in err.context if e.validator == "type"]
        if len(types) == len(err.context):
            found = json.dumps(err.instance, default=str)[:60]
            return f"expected one of the types {', '.join(map(str, types))}, found {found}"
    found = json.dumps(err.instance, default=str)
    if len(found) > 60:
        found = found[:57] + "..."
    if err.validator == "required":
        missing = err.message.removesuffix(" is a required property")
        return f"expected the required field {missing}, found none"
    if err.validator == "additionalProperties":
        return f"unexpected field: {err.message}"
    if err.validator in ("enum", "const"):
        return f"expected one of {err.validator_value}, found {found}"
    if err.validator == "pattern":
        return f"expected a value matching {err.validator_value}, found {found}"
    if err.validator == "type":
        return f"expected {err.validator_value}, found {found}"
    bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if err.validator in bounds:
        return f"expected a value {bounds[err.validator]} {err.validator_value}, found {found}"
    if err.validator in ("minItems", "minLength"):
        what = "items" if err.validator == "minItems" else "characters"
        return f"expected at least {err.validator_value} {what}, found {found}"
    if err.validator in ("maxItems", "maxLength", "maxProperties"):
        what = {"maxItems": "items", "maxLength": "characters"}.get(err.validator, "fields")
        return (f"expected at most {err.validator_value} {what}, found "
                f"{len(err.instance)}: {found}")
    message = str(err.message)  # quotes the instance, which may be huge
    return message if len(message) <= 200 else message[:197] + "..."


def _index(model: Any, file: str, path: PathKey, origin: dict[int, tuple[str, PathKey]]) -> None:
    if isinstance(model, BaseModel):
        origin[id(model)] = (file, path)
        for name in type(model).model_fields:
            _index(getattr(model, name), file, path + (name,), origin)
    elif isinstance(model, (list, tuple)):
        for i, item in enumerate(model):
            _index(item, file, path + (i,), origin)


def _build(doc: Located, kind: str, issues: list[Issue]) -> BaseModel | None:
    if not isinstance(doc.data, dict):
        issues.append(Issue(doc.file, 1, "", f"expected a mapping with kind '{kind}'"))
        return None
    if doc.data.get("kind") != kind:
        issues.append(
            Issue(doc.file, doc.line(("kind",)), "kind",
                  f"expected '{kind}', found {doc.data.get('kind')!r}")
        )
        return None
    found = _schema_issues(doc, kind)
    if found:
        issues.extend(found)
        return None
    try:
        return KINDS[kind].model_validate(doc.data)
    except ValidationError as exc:  # rules across fields that a JSON Schema cannot state
        for e in exc.errors():
            path = tuple(
                p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))
            )
            message = e["msg"].removeprefix("Value error, ")
            issues.append(Issue(doc.file, doc.line(path), dotted(path), message))
        return None


def iter_spec_files(standard: Standard) -> Iterator[tuple[str, str]]:
    """(relative path, kind) of every file the standard lists."""
    f = standard.files
    yield f.architecture, "architecture"
    yield f.dictionary, "dictionary"
    yield f.profiles, "profiles"
    for p in f.interfaces:
        yield p, "interface"
    for p in f.requirements:
        yield p, "requirements"
    for p in f.can:
        yield p, "can_catalog"


def _file_paths(standard: Standard) -> Iterator[PathKey]:
    """Where in standard.yaml each file of :func:`iter_spec_files` is listed."""
    f = standard.files
    yield ("files", "architecture")
    yield ("files", "dictionary")
    yield ("files", "profiles")
    for i in range(len(f.interfaces)):
        yield ("files", "interfaces", i)
    for i in range(len(f.requirements)):
        yield ("files", "requirements", i)
    for i in range(len(f.can)):
        yield ("files", "can", i)


def _outside(root: Path, rel: str) -> str | None:
    """Why ``rel`` is not a file inside the spec directory ``root``; None when it is.

    Checked before the file is opened: a spec lists its own files, never ``/etc/hostname``
    or ``../x.yaml``, and a symbolic link may not lead out of the directory either.
    """
    expected = "expected a relative path to a .yaml file inside the spec directory"
    parts = Path(rel).parts
    if Path(rel).is_absolute() or "\\" in rel or ".." in parts or not rel.endswith(".yaml"):
        return f"{expected}, found '{rel}'"
    try:
        target = (root / rel).resolve()
    except (OSError, RuntimeError):  # a loop of symbolic links
        return f"{expected}, found '{rel}', a loop of symbolic links"
    if not target.is_relative_to(root.resolve()):
        return f"{expected}, found '{rel}' leading to {target}"
    return None


def read_spec(root: Path | None = None) -> tuple[Spec | None, list[Issue]]:
    """Read and structurally validate every file; no cross-file checks yet.

    Raises :class:`ReadError` when a file cannot be read at all.
    """
    root = Path(root) if root is not None else spec_dir()
    if root.is_file():
        root = root.parent
    std_path = root / "standard.yaml"
    if not std_path.is_file():
        raise ReadError(
            f"{std_path}: cannot read: no such file (a spec directory holds standard.yaml)"
        )
    issues: list[Issue] = []
    sources: dict[str, Located] = {}

    def load(rel: str, kind: str) -> BaseModel | None:
        try:
            doc = read_yaml(root / rel, rel)
        except YAMLSyntax as exc:
            issues.extend(exc.issues)
            return None
        sources[rel] = doc
        try:
            return _build(doc, kind, issues)
        except Exception as exc:  # a bug in a model rule: still name the file, no traceback
            issues.append(Issue(rel, 1, "", f"internal error while checking this file: "
                                               f"{type(exc).__name__}: {exc}"))
            return None

    standard = load("standard.yaml", "standard")
    if not isinstance(standard, Standard):
        return None, issues
    built: dict[str, list[BaseModel]] = {k: [] for k in KINDS}
    seen: set[str] = set()
    for (rel, kind), path in zip(iter_spec_files(standard), _file_paths(standard), strict=True):
        if rel in seen:
            issues.append(Issue("standard.yaml", sources["standard.yaml"].line(path), dotted(path),
                                f"expected each file listed once, found '{rel}' again"))
            continue
        seen.add(rel)
        outside = _outside(root, rel)
        if outside:
            issues.append(Issue("standard.yaml", sources["standard.yaml"].line(path), dotted(path),
                                outside))
            continue
        if not (root / rel).is_file():
            raise ReadError(
                f"{root / rel}: cannot read: no such file (listed in standard.yaml files)"
            )
        model = load(rel, kind)
        if model is not None:
            built[kind].append(model)
    if issues:
        return None, issues
    origin: dict[int, tuple[str, PathKey]] = {}
    file_of: dict[str, list[str]] = {}
    for rel, kind in iter_spec_files(standard):
        file_of.setdefault(kind, []).append(rel)
    _index(standard, "standard.yaml", (), origin)
    for kind, models in built.items():
        for rel, model in zip(file_of.get(kind, []), models, strict=True):
            _index(model, rel, (), origin)
    interfaces: dict[str, Interface] = {}
    for itf in built["interface"]:
        assert isinstance(itf, Interface)
        if itf.component in interfaces:
            file, _ = origin[id(itf)]
            issues.append(Issue(file, sources[file].line(("component",)), "component",
                                f"component '{itf.component}' already has an interface in "
                                f"{origin[id(interfaces[itf.component])][0]}"))
            continue
        interfaces[itf.component] = itf
    spec = Spec(
        root=root,
        standard=standard,
        architecture=built["architecture"][0],  # type: ignore[arg-type]
        dictionary=built["dictionary"][0],  # type: ignore[arg-type]
        profiles_file=built["profiles"][0],  # type: ignore[arg-type]
        interfaces=interfaces,
        requirement_files=built["requirements"],  # type: ignore[arg-type]
        sources=sources,
        can_catalogs=built["can_catalog"],  # type: ignore[arg-type]
        _origin=origin,
    )
    return spec, issues


def check_spec(root: Path | None = None) -> tuple[Spec | None, list[Issue]]:
    """Read the spec and run every structural and semantic check."""
    from .validate import semantic_issues

    spec, issues = read_spec(root)
    if spec is not None:
        issues = issues + semantic_issues(spec)
    return spec, issues


@functools.lru_cache(maxsize=8)
def _load_cached(root: str) -> Spec:
    spec, issues = check_spec(Path(root))
    if issues or spec is None:
        raise SpecError(issues)
    return spec


def load_spec(root: Path | str | None = None) -> Spec:
    """The validated spec (cached per directory).

    Raises :class:`SpecError` or :class:`ReadError`.
    """
    path = Path(root) if root is not None else spec_dir()
    return _load_cached(str(path.resolve()))
