"""Finding the vectors a run judges: the shipped ones and a vendor's (``--vectors``), each
defect of a vendor's directory refused before anything runs, naming the file and what was
expected (:mod:`conformance.vectors.discovery`, :func:`conformance.certify.check_vectors`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conformance.certify import check_vectors
from conformance.paths import vectors_dir
from conformance.vectors.discovery import (
    DRIVE_CYCLE_START_S,
    discover_vectors,
    extra_dirs,
    extra_vectors,
    find,
    is_drive_cycle,
    is_full_cycles,
    vector,
)

from .vendor import CHARACTERIZATION, vendor_dir


def test_without_extra_directories_the_shipped_vectors_are_found() -> None:
    with extra_vectors([]):
        found = discover_vectors()
        assert extra_dirs() == []
    shipped = sorted(p.stem for p in vectors_dir().glob("*.json")
                     if p.with_suffix(".npz").exists())
    assert [f.id for f in found] == shipped
    assert {f.source for f in found} == {"shipped"}


def test_a_vendor_directory_adds_its_vectors_to_their_kind(tmp_path: Path) -> None:
    vendor_dir(tmp_path, "acme-drive-25c")
    vendor_dir(tmp_path, "acme-pulses-25c", profile="pulses")
    with extra_vectors([tmp_path]):
        every = {f.id: f for f in discover_vectors()}
        drives = [f.id for f in discover_vectors("drive_cycle")]
        assert vector("acme-drive-25c").info.profile == "drive-city"
        assert find("acme-drive-25c").path == (tmp_path / "acme-drive-25c.json").resolve()
    assert every["acme-drive-25c"].source == every["acme-pulses-25c"].source == "vendor"
    assert "acme-drive-25c" in drives and "acme-pulses-25c" not in drives
    assert "nmc-wltc-25c" in drives  # the shipped ones stay
    assert "acme-drive-25c" not in [f.id for f in discover_vectors()]  # restored after
    with pytest.raises(KeyError, match="no kind of vector 'cycle'"):
        discover_vectors("cycle")
    with pytest.raises(KeyError, match="no test vector 'acme-drive-25c'"):
        find("acme-drive-25c")


@pytest.mark.parametrize(("profile", "drive"), [
    ("wltc3b", True), ("WLTC2", True), ("udds", True), ("us06-hot", True), ("drive", True),
    ("drive-city-10c", True), ("cycles", False), ("pulses", False), ("driveway", False),
    ("cccv", False), ("storage", False)])
def test_a_drive_cycle_is_known_by_its_profile(profile: str, drive: bool) -> None:
    info = vector("nmc-wltc-25c").info.model_copy(update={"profile": profile})
    assert is_drive_cycle(info) is drive


@pytest.mark.parametrize(("profile", "cycles"), [
    ("cycles", True), ("cycles-40c", True), ("CYCLES", True), ("cyclesx", False),
    ("wltc3b", False), ("pulses", False)])
def test_full_cycles_are_known_by_their_profile(profile: str, cycles: bool) -> None:
    info = vector("nmc-wltc-25c").info.model_copy(update={"profile": profile})
    assert is_full_cycles(info) is cycles


def test_the_shipped_kinds() -> None:
    with extra_vectors([]):
        assert [f.id for f in discover_vectors("cycles")] == [
            "lfp-aged-cycles-25c", "nmc-aged-cycles-25c", "nmc-other-cycles-40c"]
        assert [f.id for f in discover_vectors("drive_cycle")] == [
            "lfp-wltc-25c", "nmc-aged-wltc-40c", "nmc-other-wltc-10c", "nmc-pack4-wltc-25c",
            "nmc-wltc-25c"]


def test_no_directory_is_refused(tmp_path: Path) -> None:
    problem = check_vectors([tmp_path / "missing"])
    assert problem == (f"{tmp_path / 'missing'}: expected a directory of test vectors "
                       "(obsa-vector/1: <id>.json beside <id>.npz)")


def test_a_directory_without_vectors_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")  # no .npz beside it
    assert check_vectors([tmp_path]) == (f"{tmp_path}: expected test vectors (obsa-vector/1: "
                                         "<id>.json beside <id>.npz), found none")


def test_an_id_of_the_shipped_set_is_refused(tmp_path: Path) -> None:
    vendor_dir(tmp_path, "nmc-wltc-25c")
    problem = check_vectors([tmp_path])
    assert problem is not None
    assert problem.startswith(f"{tmp_path.resolve() / 'nmc-wltc-25c.json'}: the id "
                              "'nmc-wltc-25c' is already the vector ")
    assert "expected ids unique" in problem


def test_the_same_id_in_two_directories_is_refused(tmp_path: Path) -> None:
    vendor_dir(tmp_path / "a")
    vendor_dir(tmp_path / "b")
    problem = check_vectors([tmp_path / "a", tmp_path / "b"])
    assert problem is not None and "'acme-drive-25c' is already the vector" in problem
    assert str((tmp_path / "a" / "acme-drive-25c.json").resolve()) in problem


def test_a_file_named_otherwise_than_its_id_is_refused(tmp_path: Path) -> None:
    path = vendor_dir(tmp_path)
    path.rename(tmp_path / "renamed.json")
    (tmp_path / "acme-drive-25c.npz").rename(tmp_path / "renamed.npz")
    problem = check_vectors([tmp_path])
    assert problem == (f"{(tmp_path / 'renamed.json').resolve()}: expected the id 'renamed' "
                       "(the file's name), found 'acme-drive-25c'")


def test_another_format_is_refused(tmp_path: Path) -> None:
    path = vendor_dir(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "format": "csv"}), encoding="utf-8")
    problem = check_vectors([tmp_path])
    assert problem is not None and problem.endswith(
        "expected an obsa-vector/1 description (format: obsa-vector/1), found format 'csv'")


def test_a_description_missing_a_field_is_refused_by_the_format(tmp_path: Path) -> None:
    path = vendor_dir(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["soc_reference"]
    path.write_text(json.dumps(data), encoding="utf-8")
    problem = check_vectors([tmp_path])
    assert problem is not None and "acme-drive-25c.json: soc_reference: Field required" \
        in problem


def test_arrays_that_are_not_the_described_ones_are_refused(tmp_path: Path) -> None:
    vendor_dir(tmp_path)
    npz = tmp_path / "acme-drive-25c.npz"
    npz.write_bytes(npz.read_bytes()[:-10] + b"0123456789")
    problem = check_vectors([tmp_path])
    assert problem is not None and problem.startswith(f"{npz.resolve()}: expected SHA-256 ")


def test_a_missing_characterization_is_refused(tmp_path: Path) -> None:
    vendor_dir(tmp_path)
    (tmp_path / CHARACTERIZATION).unlink()
    problem = check_vectors([tmp_path])
    assert problem is not None and problem.startswith(
        f"{(tmp_path / CHARACTERIZATION).resolve()}: the characterization of vector "
        "acme-drive-25c cannot be read")


def test_a_characterization_of_another_format_is_refused(tmp_path: Path) -> None:
    vendor_dir(tmp_path)
    (tmp_path / CHARACTERIZATION).write_text('{"format": "bpx"}', encoding="utf-8")
    assert check_vectors([tmp_path]) == (f"{(tmp_path / CHARACTERIZATION).resolve()}: "
                                         "expected an obsa-ecm/1 document")


def test_a_characterization_missing_a_field_an_estimator_takes_is_refused(
        tmp_path: Path) -> None:
    vendor_dir(tmp_path)
    path = tmp_path / CHARACTERIZATION
    doc = json.loads(path.read_text(encoding="utf-8"))
    del doc["soc_reference"]["empty_voltage_V"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert check_vectors([tmp_path]) == (
        f"{(tmp_path / CHARACTERIZATION).resolve()}: expected the number "
        "'soc_reference.empty_voltage_V' (the characterization of vector acme-drive-25c), "
        "found None")


def test_a_drive_cycle_too_short_to_be_replayed_is_refused(tmp_path: Path) -> None:
    vendor_dir(tmp_path, stop_s=DRIVE_CYCLE_START_S - 100)
    assert check_vectors([tmp_path]) == (
        f"{(tmp_path / 'acme-drive-25c.json').resolve()}: profile 'drive-city' makes it a "
        f"drive cycle, replayed from {DRIVE_CYCLE_START_S:g} s on: expected duration_s above "
        f"{DRIVE_CYCLE_START_S:g} s, found {DRIVE_CYCLE_START_S - 100:g} s")
    vendor_dir(tmp_path / "other", stop_s=DRIVE_CYCLE_START_S - 100, profile="pulses")
    assert check_vectors([tmp_path / "other"]) is None  # not a drive cycle: no such start


def test_a_good_directory_passes(tmp_path: Path) -> None:
    vendor_dir(tmp_path)
    assert check_vectors([tmp_path]) is None
    assert check_vectors([]) is None


def test_the_drive_cycle_examples_take_a_row_for_each_vendor_vector(tmp_path: Path) -> None:
    from behave.parser import parse_file

    from conformance.gherkin.environment import add_vector_rows
    from conformance.paths import features_dir

    def rows() -> list[str]:
        feature = parse_file(str(features_dir() / "state_estimation.feature"))
        add_vector_rows([feature])
        return [s.name.split(" -- @")[0] for s in feature.walk_scenarios()
                if "drive cycle" in s.name]

    shipped = rows()
    assert len(shipped) == len(discover_vectors("drive_cycle"))
    vendor_dir(tmp_path, "acme-drive-25c")
    vendor_dir(tmp_path, "acme-pulses-25c", profile="pulses")  # no drive cycle: no row
    with extra_vectors([tmp_path]):
        extended = rows()
    assert extended == [*shipped, "SoC on the drive cycle acme-drive-25c"]


def test_a_drive_cycle_sampled_slower_than_the_estimator_steps_is_refused(
        tmp_path: Path) -> None:
    from conformance.spec import load_spec
    from conformance.vectors import load_vector, write_vector
    from conformance.vectors.discovery import DRIVE_CYCLE_COMPONENT

    step = load_spec().interfaces[DRIVE_CYCLE_COMPONENT].step_period_s
    v = load_vector(vendor_dir(tmp_path / "fine"))
    assert check_vectors([tmp_path / "fine"]) is None  # at the step itself
    sampled = [a for a in v.arrays if v.arrays[a].ndim and v.arrays[a].shape[0] == v.n_samples]
    for dt, arrays in (
            (2 * step, {k: a[::2] if k in sampled else a for k, a in v.arrays.items()}),
            (step / 2, {k: a.repeat(2, axis=0)[:-1] if k in sampled else a
                        for k, a in v.arrays.items()})):
        arrays["t_s"] = np.arange(len(arrays["t_s"])) * dt
        info = {**v.info.model_dump(), "dt_s": dt, "duration_s": float(arrays["t_s"][-1])}
        directory = tmp_path / f"dt{dt:g}"
        write_vector(directory, info, arrays)
        shutil.copy(tmp_path / "fine" / CHARACTERIZATION, directory / CHARACTERIZATION)
        problem = check_vectors([directory])
        if dt < step:
            assert problem is None, problem  # a whole fraction: the replay takes every 2nd
        else:
            assert problem == (
                f"{(directory / 'acme-drive-25c.json').resolve()}: profile 'drive-city' makes "
                f"it a drive cycle, replayed to the {DRIVE_CYCLE_COMPONENT} at its step of "
                f"{step:g} s: expected dt_s {step:g} s or a whole fraction of it, found "
                f"{dt:g} s")


def test_behave_run_directly_refuses_a_bad_vector_directory_without_a_traceback(
        tmp_path: Path) -> None:
    """The step modules import the suite's modules, whose parameters are the vectors: a bad
    OBSA_VECTORS directory gives them the shipped vectors (discovery.parameters), and the
    Gherkin environment refuses it, naming it, before any scenario."""
    import os
    import subprocess
    import sys

    from conformance.paths import features_dir

    env = {**os.environ, "OBSA_VECTORS": str(tmp_path / "missing")}
    proc = subprocess.run([sys.executable, "-m", "behave", str(features_dir()), "-i",
                           "state_estimation", "--no-capture"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-3000:]
    assert (f"OBSA: OBSA_VECTORS: {tmp_path / 'missing'}: expected a directory of test "
            "vectors") in out
    assert proc.returncode != 0


def test_the_run_header_names_the_vendor_directories(tmp_path: Path) -> None:
    from conformance.session import Certification

    directory = vendor_dir(tmp_path).parent
    cert = Certification.prepare("reference", None, tmp_path / "out", in_process=True)
    try:
        assert not any("vectors" in line for line in cert.header_lines())
        with extra_vectors([directory]):
            assert cert.header_lines()[-1] == (f"OBSA vectors: the shipped ones and those of "
                                               f"{directory}")
    finally:
        cert.close()
