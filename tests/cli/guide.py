"""The vendor guide's walkthroughs as steps: each ``$ command`` line of a section's code
blocks with the lines printed after it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "vendor-guide.md"


def guide_section(heading: str) -> str:
    """The section ``heading`` of the vendor guide, up to the next ``## `` heading."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    following = section.find("\n## ", len(heading))
    return section if following < 0 else section[:following]


def python_excerpts(heading: str) -> list[str]:
    """The ```` ```python ```` blocks of the section ``heading`` of the vendor guide."""
    return re.findall(r"^```python\n(.*?)^```", guide_section(heading), re.S | re.M)


def guide_steps(heading: str) -> list[tuple[str, list[str]]]:
    """(command, the lines shown after it) of every ``$`` line in the plain code blocks of the
    section ``heading`` of the vendor guide, in order; blocks with a language (```` ```python
    ````) show code, not a session."""
    steps: list[tuple[str, list[str]]] = []
    for language, block in re.findall(r"^```(\w*)\n(.*?)^```", guide_section(heading),
                                      re.S | re.M):
        if language:
            continue
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
    return steps


Varying = list[tuple["re.Pattern[str]", str]]

#: what differs between two runs of any command: the run id, the start time, a progress
#: line's total
RUN_VARYING: Varying = [
    (re.compile(r"\b[0-9a-f]{32}\b"), "<run id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"), "<time>"),
    (re.compile(r"\[\s*(\d+)/\s*\d+\]"), r"[\1/N]"),
]

#: a certification's duration at the end of its summary line, "(12.3 s)"
DURATION_VARYING: Varying = [(re.compile(r"\(\d+\.\d s\)$"), "(<duration>)")]


def whole_suite(command: str) -> bool:
    """An ``obsa certify`` run of every case (no ``-k``, not ``--list``)."""
    words = shlex.split(command)
    return "certify" in words and "-k" not in words and "--list" not in words


def out_dir(command: str) -> str:
    """The ``--out`` directory of a command."""
    words = shlex.split(command)
    return words[words.index("--out") + 1]


#: a decimal number as a report prints it
NUMBER = re.compile(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?")
#: printed values agree when they differ by less than this part of themselves: a measured
#: value is printed to 10 significant digits, and its last digits move with the order in
#: which numpy sums (seen: an RMS error printed 0.09742171527 in one run, 0.09742171523 in
#: another of the same code)
SAME_RELATIVE = 1e-8


def same_line(want: str, line: str) -> bool:
    """Whether ``line`` says what ``want`` says: the same text, every number within
    :data:`SAME_RELATIVE` of the one shown."""
    if want == line:
        return True
    if NUMBER.split(want) != NUMBER.split(line):
        return False
    shown, printed = NUMBER.findall(want), NUMBER.findall(line)
    return all(abs(float(a) - float(b)) <= SAME_RELATIVE * max(abs(float(a)), abs(float(b)))
               for a, b in zip(shown, printed, strict=True))


def excerpt_holds(printed: list[str], shown: list[str],
                  varying: Sequence[tuple[re.Pattern[str], str]] = ()) -> str | None:
    """None when every line of ``shown`` but ``...`` is printed, in the order shown (lines
    the guide leaves out may come between: ``...`` marks where it leaves some out, and a
    run may say more than the guide); else the first line shown that was not printed where
    it should be. :data:`RUN_VARYING` and ``varying`` (pattern, replacement: e.g. a
    section's durations) are applied to both sides, and numbers agree in their first eight
    significant digits (:func:`same_line`)."""
    def normal(line: str) -> str:
        for pattern, replacement in [*RUN_VARYING, *varying]:
            line = pattern.sub(replacement, line.rstrip())
        return line

    lines = [normal(x) for x in printed]
    at = 0
    for want in (normal(x) for x in shown):
        if want == "...":
            continue
        found = next((i for i in range(at, len(lines)) if same_line(want, lines[i])), None)
        if found is None:
            return want
        at = found + 1
    return None


def run_walk(steps: list[tuple[str, list[str]]], cwd: Path, copied: Sequence[Path],
             varying: Varying = DURATION_VARYING, timeout_s: float = 300,
             whole_suites: bool = False) -> None:
    """Copy ``copied`` into ``cwd``, then run there, in order, every step of a walkthrough
    but its whole-suite certifications (minutes each; the steps after them read only what
    the others wrote) unless ``whole_suites`` (a profile judged in seconds): each must end
    within ``timeout_s`` without a traceback, exit 0 or 1 and print every line the guide
    shows (:func:`excerpt_holds` with ``varying``: by default durations aside)."""
    for path in copied:
        shutil.copy(path, cwd / path.name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               NO_COLOR="1")
    env.pop("OBSA_VECTORS", None)
    for command, shown in steps:
        if whole_suite(command) and not whole_suites:
            continue
        proc = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout_s)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode in (0, 1), (command, proc.stdout[-2000:], proc.stderr)
        missing = excerpt_holds((proc.stdout + proc.stderr).splitlines(), shown, varying)
        assert missing is None, f"$ {command}\nnot printed: {missing}\n{proc.stdout[-3000:]}"
