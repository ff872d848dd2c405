"""Which test vectors a run judges: the shipped ones (``vectors/``) and those of the extra
directories a vendor names (``obsa certify --vectors DIR``), found in one place.

Every test case that replays vectors finds them here — :func:`discover_vectors` when it is
parametrized over a kind of vector (at import), :func:`vector` when it loads one by id — so
a vendor's own vectors run through the very same test cases, in both suites.

The extra directories travel in the environment variable :data:`ENV` (directories joined by
``os.pathsep``): ``obsa certify --vectors`` sets it for its run, and so it reaches the pytest
suite, the Gherkin suite and a process of their own; ``pytest --obsa-module`` and ``behave``
run directly honour it too. A vector's id names it in both suites (the test case's
parameter, the scenario's row), so an id may occur once among all the directories.

What a vector stands for is its ``profile`` field. A vector is a **drive cycle** when its
profile is ``drive`` or starts with ``drive-`` (a vendor's own driving, e.g.
``drive-city-10c``) or with the name of a standard drive cycle (:data:`DRIVE_CYCLE_PROFILES`,
e.g. the shipped ``wltc3b``); it holds **full cycles** when its profile is ``cycles`` or
starts with ``cycles-``. The drive-cycle test cases replay it from
:data:`DRIVE_CYCLE_START_S` to :data:`DRIVE_CYCLE_COMPONENT`, so it must last longer than
that and be sampled at that component's step period or a whole fraction of it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..paths import vectors_dir
from .format import Vector, VectorError, VectorInfo, load_vector, read_json

ENV = "OBSA_VECTORS"
"""The environment variable holding the extra vector directories (``os.pathsep``-joined)."""

Source = Literal["shipped", "vendor"]

DRIVE_CYCLE_PROFILES = ("wltc", "nedc", "udds", "hwfet", "us06", "ftp", "cltc", "jc08",
                        "artemis")
"""Profile prefixes of the standard drive cycles (WLTC of any class, NEDC, the EPA cycles
UDDS, HWFET, US06 and FTP-75, China's CLTC, Japan's JC08, the Artemis cycles)."""
DRIVE_CYCLE_COMPONENT = "soc_estimator"
"""The component the drive-cycle test cases replay a drive cycle to, at its step period: a
drive cycle is sampled at that period or a whole fraction of it, so that the component's
time grows by one step at every step (the spec's lifecycle rules)."""
DRIVE_CYCLE_START_S = 600.0
"""Where the drive-cycle test cases start a replay: 60 s of rest and 540 s into the drive
of a shipped vector, where the cells are not at rest and one voltage reading cannot tell
the SoC."""


def is_drive_cycle(info: VectorInfo) -> bool:
    """Whether the vector stands for driving (module docstring)."""
    profile = info.profile.lower()
    return (profile == "drive" or profile.startswith("drive-")
            or profile.startswith(DRIVE_CYCLE_PROFILES))


def is_full_cycles(info: VectorInfo) -> bool:
    """Whether the vector holds full cycles between the SoC reference voltages (the shipped
    ``cycles`` vectors, vectors/README.md): profile ``cycles`` or ``cycles-…``."""
    profile = info.profile.lower()
    return profile == "cycles" or profile.startswith("cycles-")


KINDS: dict[str, Callable[[VectorInfo], bool]] = {
    "drive_cycle": is_drive_cycle,
    "cycles": is_full_cycles,
}
"""The kinds of vector a test case can ask for by name (a Gherkin ``Examples`` block tagged
``@vectors.<kind>`` takes every vector of the kind, :func:`conformance.gherkin.environment.
add_vector_rows`)."""


@dataclass(frozen=True)
class Found:
    """A vector found: where its ``.json`` is, whether it ships with OBSA, what it is."""

    path: Path
    source: Source
    info: VectorInfo

    @property
    def id(self) -> str:
        return self.info.id


def extra_dirs() -> list[Path]:
    """The extra vector directories of this process (:data:`ENV`)."""
    return [Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p]


@contextmanager
def extra_vectors(directories: list[Path]) -> Iterator[None]:
    """Judge the vectors of ``directories`` too while inside (restores :data:`ENV` after)."""
    before = os.environ.get(ENV)
    os.environ[ENV] = os.pathsep.join(str(Path(d)) for d in directories)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before


def _info(path: Path) -> VectorInfo:
    """The description of the vector ``path`` names (without reading its arrays)."""
    raw = read_json(path)
    if not isinstance(raw, dict) or raw.get("format") != "obsa-vector/1":
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise VectorError(f"{path}: expected an obsa-vector/1 description (format: "
                          f"obsa-vector/1), found format {found!r}")
    try:
        return VectorInfo.model_validate(raw)
    except ValueError:  # the full message is load_vector's
        return load_vector(path).info


def _vector_files(directory: Path) -> list[Path]:
    """The vector descriptions of ``directory``: each ``*.json`` with an ``.npz`` beside it
    (the characterizations and truth models beside them are not vectors)."""
    return sorted(p for p in directory.glob("*.json") if p.with_suffix(".npz").exists())


def _discover(extra: tuple[Path, ...], shipped: Path) -> tuple[Found, ...]:
    """Read anew at every call (a few small JSON files): a directory's vectors may change
    between two runs of one process."""
    found: dict[str, Found] = {}
    sources: list[tuple[Path, Source]] = [(shipped, "shipped")]
    sources += [(d, "vendor") for d in extra]
    for directory, source in sources:
        if source == "vendor":
            if not directory.is_dir():
                raise VectorError(f"{directory}: expected a directory of test vectors "
                                  f"(obsa-vector/1: <id>.json beside <id>.npz)")
            if not _vector_files(directory):
                raise VectorError(f"{directory}: expected test vectors (obsa-vector/1: "
                                  "<id>.json beside <id>.npz), found none")
        for path in _vector_files(directory):
            info = _info(path)
            if info.id != path.stem:
                raise VectorError(f"{path}: expected the id '{path.stem}' (the file's "
                                  f"name), found '{info.id}'")
            if info.id in found:
                raise VectorError(f"{path}: the id '{info.id}' is already the vector "
                                  f"{found[info.id].path}; expected ids unique among the "
                                  "shipped vectors and every --vectors directory")
            found[info.id] = Found(path, source, info)
    return tuple(found.values())


def discover_vectors(kind: str | None = None) -> list[Found]:
    """Every vector of this run, shipped then each extra directory's, by id within each;
    only those of ``kind`` (a key of :data:`KINDS`) when given. The one way a test case
    finds the vectors it is parametrized over."""
    return _of_kind(_discover(tuple(p.resolve() for p in extra_dirs()), vectors_dir()), kind)


def _of_kind(found: tuple[Found, ...], kind: str | None) -> list[Found]:
    if kind is None:
        return list(found)
    if kind not in KINDS:
        raise KeyError(f"no kind of vector '{kind}'; expected one of {', '.join(KINDS)}")
    return [f for f in found if KINDS[kind](f.info)]


def parameters(kind: str | None = None) -> list[Found]:
    """:func:`discover_vectors` for a test module's parameters, read when the module is
    imported: a bad directory of :data:`ENV` gives the shipped vectors only there, since the
    run refuses it, naming what is wrong, before any test (``obsa certify``, the pytest
    plugin and the Gherkin environment check it) — an import is no place for that error."""
    try:
        return discover_vectors(kind)
    except VectorError:
        return _of_kind(_discover((), vectors_dir()), kind)


def find(vector_id: str) -> Found:
    """The vector ``vector_id`` of this run; KeyError naming the known ids otherwise."""
    for f in discover_vectors():
        if f.id == vector_id:
            return f
    known = ", ".join(f.id for f in discover_vectors())
    raise KeyError(f"no test vector '{vector_id}' (known: {known})")


def vector(vector_id: str) -> Vector:
    """The vector ``vector_id`` of this run, read and checked (:func:`format.load_vector`)."""
    return load_vector(find(vector_id).path)


def sha256_of(path: Path) -> str | None:
    """SHA-256 of a file, None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
