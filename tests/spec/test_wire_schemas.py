"""The wire contract's schemas are generated from the spec: a request names only the spec's
components and the data dictionary's signals."""

from __future__ import annotations

import json

import jsonschema

from conformance.paths import schemas_dir
from conformance.spec import load_spec


def _request_schema() -> dict:
    return json.loads((schemas_dir() / "wire" / "request.schema.json").read_text())


def test_a_batched_step_names_spec_components_and_dictionary_signals() -> None:
    spec = load_spec()
    validator = jsonschema.Draft202012Validator(_request_schema())
    good = {"jsonrpc": "2.0", "id": 1, "method": "obsa.step",
            "params": {"t": 0.01, "components": ["safety_supervisor"],
                       "inputs": {"pack_current_A": 1.5, "cell_voltage_V": [3.7, None]}}}
    assert list(validator.iter_errors(good)) == []
    for bad_params in ({"t": 0.01, "components": ["safety_supervisr"], "inputs": {}},
                       {"t": 0.01, "components": ["safety_supervisor"],
                        "inputs": {"pack_current_mA": 1.5}}):
        assert list(validator.iter_errors({**good, "params": bad_params})), bad_params
    defs = _request_schema()["$defs"]
    assert defs["component"]["enum"] == sorted(spec.interfaces)
    assert defs["signal_name"]["enum"] == sorted(spec.signals)
