"""The HTTP binding of the HMI API is spec, not code: the section ``http`` of
``interfaces/hmi_api.yaml`` names every resource and what it carries; the OpenAPI exporter
and the reference service both read it (the service through the generated document), and a
bad binding is refused with the file, line and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.paths import spec_dir
from conformance.spec import load_spec
from conformance.spec.exporters import openapi
from reference_impl.hmi import resources as R

from ..spec.helpers import Edit, apply, copy_spec, line_of, printed_issues, validate


def test_the_service_serves_the_resources_of_the_spec() -> None:
    http = load_spec().interfaces["hmi_api"].http
    assert http is not None
    assert {r.name: (r.path, r.outputs, r.inputs, r.includes, r.dtc_rows, r.required)
            for r in http.resources} == {
        r.name: (r.path, list(r.outputs), list(r.inputs), list(r.includes), r.dtc_rows,
                 r.required) for r in R.BINDING.values()}
    assert list(R.WRITE_METHODS) == http.write_methods


def test_every_output_of_hmi_api_is_served_and_the_cell_arrays_are_outputs() -> None:
    spec = load_spec()
    itf = spec.interfaces["hmi_api"]
    served = {s for r in R.BINDING.values() for s in (*r.outputs, r.dtc_rows) if s}
    assert served == {p.signal for p in itf.outputs}
    assert {"cell_voltage_V", "cell_temperature_degC"} <= {p.signal for p in itf.inputs}
    assert R.BINDING["cells"].outputs == ("hmi_snapshot_time_s", "hmi_cell_voltage_V",
                                          "hmi_cell_temperature_degC")


def test_the_document_refuses_every_write_method_on_every_path() -> None:
    doc = openapi.document(load_spec())
    for path, item in doc["paths"].items():
        assert set(item) == {"get", "post", "put", "patch", "delete"}, path
        assert all(set(item[m]["responses"]) == {"405"} for m in item if m != "get"), path


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("      outputs: [hmi_snapshot_time_s, hmi_cell_voltage_V,",
     "      outputs: [hmi_snapshot_time_s, cell_voltage_V,", "expected an output of hmi_api"),
    ("      inputs: [soh_capacity,", "      inputs: [hmi_soh_capacity,",
     "expected an input of hmi_api"),
    ("      path: /api/cells\n", "      path: /api/snapshot\n", "found '/api/snapshot' again"),
    ("      dtc_rows: hmi_dtc_status\n", "      dtc_rows: hmi_active_dtc_count\n",
     "along the dtc dimension"),
    ("      includes: [snapshot, cells, faults, annex_vii]\n      required: false",
     "      includes: [snapshot, cells, fault_memory]\n      required: false",
     "expected another resource of the binding, found 'fault_memory'"),
    ("        parameters: [cell_voltage_max_mol_V,", "        parameters: [cell_voltage_max_V,",
     "expected a parameter of safety_supervisor"),
    ("      media_type: text/event-stream", "      media_type: text/html",
     "text/event-stream"),
], ids=["output_unknown", "input_unknown", "path_twice", "dtc_rows_scalar", "include_unknown",
        "limit_unknown", "media_type"])
def test_a_bad_http_section_is_refused_by_file(tmp_path: Path, old: str, new: str,
                                               expected: str) -> None:
    root = copy_spec(tmp_path)
    apply(root, Edit("interfaces/hmi_api.yaml", old, new, after="http:"))
    code, out, err = validate(root)
    assert code == 1 and "Traceback" not in out + err, out + err
    issues = [i for i in printed_issues(out) if i.file.endswith("interfaces/hmi_api.yaml")]
    assert issues and any(expected in i.message or expected in i.field for i in issues), out
    assert all(i.line is None or i.line >= line_of(root, "interfaces/hmi_api.yaml", "http:")
               for i in issues), out
    assert spec_dir() != root
