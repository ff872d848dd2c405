"""The test cases read the closed loop's pool through :attr:`ClosedLoop.seen`, which
leaves a case inconclusive when it reads a signal the transport hides (a CAN node's
blocks' outputs that no frame carries): a read straight from ``pool`` would judge the
bench's default value as the module's."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE = [*sorted((ROOT / "conformance" / "suite").glob("*.py")),
         *sorted((ROOT / "features" / "steps").glob("*.py"))]


def _pool_reads(path: Path) -> list[int]:
    """The lines of ``path`` that read ``<something>.pool[...]`` or bind ``.pool`` to a
    name (a write into the pool, the bench's own truth, is allowed)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and isinstance(node.value, ast.Attribute) and node.value.attr == "pool":
            lines.append(node.lineno)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "pool":
            lines.append(node.lineno)
    return lines


def test_the_test_cases_read_the_pool_through_seen() -> None:
    assert SUITE
    found = {str(p.relative_to(ROOT)): lines for p in SUITE if (lines := _pool_reads(p))}
    assert found == {}, f"read the pool through loop.seen: {found}"


def test_the_check_finds_a_direct_read(tmp_path: Path) -> None:
    bad = tmp_path / "case.py"
    bad.write_text("def case(loop):\n    p = loop.pool\n    return loop.pool['x']\n"
                   "def ok(loop):\n    loop.pool['x'] = 1\n    return loop.seen['x']\n",
                   encoding="utf-8")
    assert sorted(_pool_reads(bad)) == [2, 3]
