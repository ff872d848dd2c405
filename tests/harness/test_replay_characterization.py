"""What a state estimator is configured with on a test vector: the obsa-ecm/1 document of
the vector's nominal cell and, where the vector has one, the same cell as a BPX document."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from conformance.harness.replay import bpx_document, configuration
from conformance.paths import vectors_dir
from conformance.spec import load_spec
from conformance.spec.models import Interface
from conformance.vectors import VectorError
from conformance.vectors.format import Vector, load_vector
from reference_impl.functions.cell_model import BPX_KEY, CHARACTERIZATION_KEY
from reference_impl.functions.soc import SocEstimator
from reference_impl.functions.soh import SohEstimator
from reference_impl.functions.sop import SopEstimator

ESTIMATORS = ("soc_estimator", "soh_estimator", "sop_estimator")
VECTOR = "nmc-wltc-25c"


#: what the reference's state-estimation manifest declares, per component
DECLARED = yaml.safe_load((Path(__file__).resolve().parents[2] / "reference_impl"
                           / "manifest_state_estimation.yaml").read_text(encoding="utf-8")
                          )["configuration"]


class _Harness:
    """What :func:`configuration` reads of a harness: the spec and declared parameters."""

    def __init__(self) -> None:
        self.spec = load_spec()

    def params(self, component: str) -> dict[str, Any]:
        return dict(DECLARED[component])


def _copy(tmp_path: Path, characterization: str | None = None) -> Vector:
    """The shipped vector and its nominal cell's documents in ``tmp_path``; ``characterization``:
    the name its metadata gives instead."""
    source = vectors_dir()
    for name in (f"{VECTOR}.json", f"{VECTOR}.npz", "nmc-chen2020.ecm.json",
                 "nmc-chen2020.bpx.json"):
        shutil.copy(source / name, tmp_path / name)
    if characterization is not None:
        meta = tmp_path / f"{VECTOR}.json"
        doc = json.loads(meta.read_text(encoding="utf-8"))
        doc["characterization"] = characterization
        meta.write_text(json.dumps(doc), encoding="utf-8")
    return load_vector(tmp_path / f"{VECTOR}.json")


def test_the_reference_takes_the_keys_the_spec_names() -> None:
    spec = load_spec()
    for component in ESTIMATORS:
        char = spec.interfaces[component].characterization
        assert char is not None, component
        assert (char.parameter, char.bpx_parameter) == (CHARACTERIZATION_KEY, BPX_KEY)


def test_every_estimator_is_given_both_documents_of_a_shipped_vector() -> None:
    vector = load_vector(vectors_dir() / f"{VECTOR}.json")
    bpx = json.loads((vectors_dir() / "nmc-chen2020.bpx.json").read_text(encoding="utf-8"))
    ecm = json.loads((vectors_dir() / "nmc-chen2020.ecm.json").read_text(encoding="utf-8"))
    h = _Harness()
    for component, cls in zip(ESTIMATORS, (SocEstimator, SohEstimator, SopEstimator),
                              strict=True):
        params = configuration(h, component, vector)  # type: ignore[arg-type]
        assert params[CHARACTERIZATION_KEY] == ecm, component
        assert params[BPX_KEY] == bpx, component
        block = cls()
        block.configure(params)  # the SoC filter models the cell with it, SoH and SoP do not
        assert (getattr(block, "_spme", None) is not None) == (cls is SocEstimator), component


def test_a_vector_without_a_bpx_document_gives_none(tmp_path: Path) -> None:
    vector = _copy(tmp_path, "nmc-chen2020.ecm.json")
    assert bpx_document(vector) is not None  # named by its .ecm.json, found beside it
    (tmp_path / "nmc-chen2020.bpx.json").unlink()
    assert bpx_document(vector) is None
    params = configuration(_Harness(), "soc_estimator", vector)  # type: ignore[arg-type]
    assert BPX_KEY not in params and CHARACTERIZATION_KEY in params


@pytest.mark.parametrize(("text", "expected"), [
    ("{not json", "cannot be read"),
    ('{"Header": {}}', "expected a BPX document (an object with 'Header' and "
                       "'Parameterisation')"),
    ("[1, 2]", "expected a BPX document")])
def test_a_broken_bpx_document_is_named(tmp_path: Path, text: str, expected: str) -> None:
    vector = _copy(tmp_path)
    (tmp_path / "nmc-chen2020.bpx.json").write_text(text, encoding="utf-8")
    with pytest.raises(VectorError) as err:
        bpx_document(vector)
    assert str(tmp_path / "nmc-chen2020.bpx.json") in str(err.value)
    assert expected in str(err.value)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("bpx_parameter", "initial_soc", "characterization.bpx_parameter: 'initial_soc' is a "
                                     "declared parameter of the interface"),
    ("bpx_parameter", "cell_characterization", "parameter and bpx_parameter are the same key"),
    ("parameter", "initial_soc", "characterization.parameter: 'initial_soc' is a declared")])
def test_the_bench_supplied_keys_are_keys_of_their_own(key: str, value: str,
                                                       expected: str) -> None:
    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "spec" / "interfaces"
                           / "soc_estimator.yaml").read_text(encoding="utf-8"))
    Interface.model_validate(data)  # as shipped
    data["characterization"][key] = value
    with pytest.raises(ValidationError) as err:
        Interface.model_validate(data)
    assert expected in str(err.value)
