"""A correct-but-different safety core must be certified (DESIGN.md §5).

``examples/independent_core`` was written from the spec alone, with another design than the
reference implementation (table-driven supervisor with leaky violation integrators, a
transition-table contactor manager, an event-log fault memory). If the suite rejects it,
the suite encodes a quirk of the reference, or the example breaks the spec: either way the
failing requirement in the output says where to look.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..certified import assert_certified

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "examples" / "independent_core" / "manifest.yaml"


@pytest.mark.slow
def test_independent_core_is_certified(tmp_path: Path) -> None:
    assert_certified(MANIFEST, tmp_path / "out", timeout_s=600)
