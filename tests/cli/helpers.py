"""Running ``obsa`` in process and checking what a user sees."""

from __future__ import annotations

from typing import Any

from conformance.cli import main


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``obsa ARGV``."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    """Bad input: exit 2 and one line on stderr naming the problem, no traceback."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("obsa: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], err
