"""The vector format's errors: each is a VectorError naming the file and, where one is at
fault, the array."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conformance.vectors.format import ARRAYS, VectorError, load_vector, write_vector

N, C = 50, 2


def _info() -> dict[str, object]:
    return {
        "id": "tiny", "description": "a synthetic vector", "chemistry": "nmc",
        "parameter_set": "none", "characterization": "none.bpx.json", "profile": "test",
        "temperature_degC": 25.0, "n_cells": C, "dt_s": 0.1, "duration_s": (N - 1) * 0.1,
        "seed": 0, "generator": "test", "pybamm_version": "none",
        "soc_reference": {"full_voltage_V": 4.2, "empty_voltage_V": 2.5, "current_A": 0.25,
                          "temperature_degC": 25.0},
    }


def _arrays() -> dict[str, np.ndarray]:
    t = np.arange(N) * 0.1
    return {
        "t_s": t,
        "current_A": np.full(N, -5.0),
        "cell_voltage_V": np.full((N, C), 3.7),
        "cell_temperature_degC": np.full((N, C), 25.0),
        "cell_soc": 0.5 - np.outer(t * 5.0 / 3600 / 5.0, np.ones(C)),
        "cell_capacity_Ah": np.full(C, 5.0),
        "cell_resistance_ohm": np.full(C, 0.02),
    }


def _rewrite(json_path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Replace the .npz behind the writer's back, with a matching hash."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    data = buffer.getvalue()
    json_path.with_suffix(".npz").write_bytes(data)
    info = json.loads(json_path.read_text(encoding="utf-8"))
    info["sha256"] = hashlib.sha256(data).hexdigest()
    json_path.write_text(json.dumps(info), encoding="utf-8")


@pytest.fixture
def written(tmp_path: Path) -> Path:
    return write_vector(tmp_path, _info(), _arrays())


def test_a_written_vector_loads(written: Path) -> None:
    vector = load_vector(written)
    assert vector.n_samples == N and vector.info.n_cells == C
    assert {name: str(a.dtype) for name, a in vector.arrays.items()} == {
        name: dtype for name, (dtype, _) in ARRAYS.items()}


def _cast(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=ARRAYS[k][0]) for k, v in arrays.items()}


def _missing(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v for k, v in a.items() if k != "cell_soc"}


def _nan(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    a["cell_voltage_V"][7, 1] = np.nan
    return a


def _uneven(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    a["t_s"][20:] += 0.05
    return a


def _shape(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    a["cell_capacity_Ah"] = np.full(C + 1, 5.0, dtype=np.float32)
    return a


def _dtype(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    a["cell_voltage_V"] = a["cell_voltage_V"].astype(np.float64)
    return a


def _soc(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    a["cell_soc"][3, 0] = 1.2
    return a


@pytest.mark.parametrize(("spoil", "array", "words"), [
    (_missing, "cell_soc", "missing"),
    (_nan, "cell_voltage_V", "finite"),
    (_uneven, "t_s", "step"),
    (_shape, "cell_capacity_Ah", "shape"),
    (_dtype, "cell_voltage_V", "dtype"),
    (_soc, "cell_soc", "values in"),
], ids=["missing-array", "nan", "uneven-time", "shape", "dtype", "soc-out-of-bounds"])
def test_a_spoiled_array_names_file_and_array(
        written: Path, spoil: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
        array: str, words: str) -> None:
    _rewrite(written, spoil(_cast(_arrays())))
    with pytest.raises(VectorError) as err:
        load_vector(written)
    message = str(err.value)
    assert "tiny.npz" in message and array in message and words in message, message


def test_a_wrong_hash_names_the_file(written: Path) -> None:
    npz = written.with_suffix(".npz")
    data = bytearray(npz.read_bytes())
    data[-1] ^= 0xFF
    npz.write_bytes(bytes(data))
    with pytest.raises(VectorError, match=r"tiny\.npz: expected SHA-256"):
        load_vector(written)


def test_bad_json_names_the_file(written: Path) -> None:
    written.write_text('{"id": "tiny",', encoding="utf-8")
    with pytest.raises(VectorError, match=r"tiny\.json: not JSON"):
        load_vector(written)


def test_a_wrong_field_names_the_file_and_the_field(written: Path) -> None:
    info = json.loads(written.read_text(encoding="utf-8"))
    info["dt_s"] = -1
    written.write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(VectorError, match=r"tiny\.json: dt_s"):
        load_vector(written)


def test_a_missing_npz_names_it(written: Path) -> None:
    written.with_suffix(".npz").unlink()
    with pytest.raises(VectorError, match=r"tiny\.npz: cannot read"):
        load_vector(written)


def test_the_writer_refuses_what_the_reader_would(tmp_path: Path) -> None:
    with pytest.raises(VectorError, match="cell_voltage_V"):
        write_vector(tmp_path, _info(), _nan(_cast(_arrays())))
    assert not list(tmp_path.iterdir())
