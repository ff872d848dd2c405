"""Checked-in generated artefacts match the spec byte for byte (no drift, nothing stale)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.spec import load_spec
from conformance.spec.exporters import CHECKED_IN, EXPORTERS, REGENERATE, stale_files

REPO = Path(__file__).resolve().parents[2]
FIX = f"the generated files drifted from spec/; run `{REGENERATE}` and commit the result"


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def test_every_exporter_has_a_checked_in_place():
    assert set(CHECKED_IN) == set(EXPORTERS)


@pytest.mark.parametrize("name", sorted(EXPORTERS))
def test_checked_in_files_match_the_spec(spec, name):
    target = REPO / CHECKED_IN[name].directory
    rendered = EXPORTERS[name].render(spec)
    assert rendered, f"exporter {name} renders nothing"
    missing = [f for f in rendered if not (target / f).is_file()]
    assert not missing, f"{name}: missing {missing} in {target.relative_to(REPO)}; {FIX}"
    differ = [f for f, text in rendered.items()
              if (target / f).read_bytes() != text.encode("utf-8")]
    assert not differ, f"{name}: {differ} in {target.relative_to(REPO)} differ; {FIX}"


@pytest.mark.parametrize("name", sorted(EXPORTERS))
def test_no_stale_generated_files(spec, name):
    stale = stale_files(name, EXPORTERS[name].render(spec), REPO)
    assert not stale, f"{name}: {[str(p.relative_to(REPO)) for p in stale]} are stale; {FIX}"
