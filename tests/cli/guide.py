"""The vendor guide's walkthroughs as steps: each ``$ command`` line of a section's code
blocks with the lines printed after it."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "vendor-guide.md"


def guide_steps(heading: str) -> list[tuple[str, list[str]]]:
    """(command, the lines shown after it) of every ``$`` line in the section ``heading``
    of the vendor guide, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    following = section.find("\n## ", len(heading))
    section = section if following < 0 else section[:following]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"^```\n(.*?)^```", section, re.S | re.M):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
    return steps
