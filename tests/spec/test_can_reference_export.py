"""The CAN catalog as the reference implementation carries it (reference_impl/can/, exporter
``can_reference``): the DBC files are the published ones byte for byte, and the generated
rules say what the catalog says. (That the checked-in files match the spec at all is
tests/spec/test_generated.py's drift check, which covers every exporter.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance.spec import load_spec
from conformance.spec.exporters import CHECKED_IN, can_reference, dbc
from conformance.spec.loader import Spec
from reference_impl.can import DBC_FILES, FRAMES, NODE_COMPONENTS, database, dbc_path

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def test_the_reference_dbc_files_are_the_published_ones(spec: Spec) -> None:
    """One rendering, two places: the docs' download and the reference's package data."""
    published = dbc.render(spec)
    reference = can_reference.render(spec)
    dbcs = sorted(n for n in reference if n.endswith(".dbc"))
    assert dbcs == sorted(n for n in published if n.endswith(".dbc"))
    for name in dbcs:
        assert reference[name] == published[name]
        assert ((REPO / CHECKED_IN["can_reference"].directory / name).read_bytes()
                == (REPO / CHECKED_IN["can"].directory / name).read_bytes())
    assert sorted(DBC_FILES.values()) == dbcs
    assert all(dbc_path(bus).is_file() for bus in DBC_FILES)


def test_the_generated_rules_say_what_the_catalog_says(spec: Spec) -> None:
    assert set(FRAMES) == {c.bus.id for c in spec.can_catalogs}
    for catalog in spec.can_catalogs:
        rules = FRAMES[catalog.bus.id]
        assert list(rules) == [f.name for f in catalog.frames]
        db = database(catalog.bus.id)
        for frame in catalog.frames:
            rule = rules[frame.name]
            assert rule.bus == catalog.bus.id
            assert (list(rule.senders), list(rule.receivers)) == (frame.senders,
                                                                 frame.receivers)
            if frame.cycle is not None:
                assert rule.period_s == pytest.approx(frame.cycle.period_ms / 1000)
                assert rule.tolerance_s == pytest.approx(frame.cycle.tolerance_ms / 1000)
            else:
                assert rule.period_s is None and rule.tolerance_s is None
            if frame.timeout is not None:
                assert rule.timeout_s == pytest.approx(frame.timeout.time_ms / 1000)
                assert rule.reaction_time_s == pytest.approx(
                    frame.timeout.reaction_time_ms / 1000)
            else:
                assert rule.timeout_s is None and rule.reaction_time_s is None
            per = frame.multiplexer.elements_per_value if frame.multiplexer else None
            assert rule.elements_per_value == per
            if frame.e2e is None:
                assert rule.e2e is None
            else:
                assert rule.e2e is not None
                assert (rule.e2e.profile, rule.e2e.data_id, rule.e2e.crc_algorithm,
                        rule.e2e.max_delta_counter) == (
                    frame.e2e.profile, frame.e2e.data_id, frame.e2e.crc.algorithm,
                    frame.e2e.max_delta_counter)
            # the layout itself is the DBC's, which the reference loads from its package
            assert db.get_message_by_name(frame.name).frame_id == frame.id


def test_node_components_follow_the_architecture(spec: Spec) -> None:
    arch = spec.architecture
    assert list(NODE_COMPONENTS) == [n.id for n in arch.topology.nodes]
    for node, components in NODE_COMPONENTS.items():
        assert list(components) == [c.id for c in arch.components if c.node == node]


def test_the_generated_module_is_plain_python_within_the_line_width(spec: Spec) -> None:
    text = can_reference.render(spec)[can_reference.MODULE]
    ast.parse(text)
    assert max(len(line) for line in text.splitlines()) <= 100
