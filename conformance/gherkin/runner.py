"""Run the Gherkin suite on a certification that ``obsa certify`` holds (``--suite gherkin``
or ``both``): behave, in this process, on the same module, adapter and bench set-up as the
pytest suite; the caller finishes the run and writes its one report."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from pathlib import Path

from ..paths import features_dir
from ..session import Certification
from . import environment


def behave_args(features: Path, progress: bool, name: str | None = None,
                stop: bool = False) -> list[str]:
    """behave's command line: OBSA's progress lines instead of behave's formatter."""
    args = [str(features), "--format", "null", "--no-summary", "--no-capture",
            "--no-capture-stderr", "--no-logcapture", "--no-color"]
    if name:  # pytest's -k syntax, applied to each scenario's name and tags
        args += ["-D", f"select={name}"]
    if not progress:
        args += ["-D", "quiet=yes"]
    if stop:
        args.append("--stop")
    return args


def run_gherkin(cert: Certification, progress: bool = True, name: str | None = None,
                features: Path | None = None, stop: bool = False) -> int:
    """Run every scenario of ``features`` (default: the bundled suite) on ``cert``; returns 0
    when every scenario passed, else 1 (the verdicts are in ``cert``). ``stop``: at the
    first failed scenario."""
    from behave.configuration import Configuration
    from behave.runner import Runner
    from behave.step_registry import registry

    registry.clear()  # the step modules are executed anew by each run
    config = Configuration(behave_args(features or features_dir(), progress, name, stop),
                           load_config=False)
    environment.PROVIDED.append(cert)
    behave_log = logging.getLogger("behave")
    level = behave_log.level
    behave_log.setLevel(logging.ERROR)  # its "SKIP <scenario>" lines: the report says why
    try:
        # behave reports a failing hook or step on stdout too; OBSA's lines are the progress
        out = io.StringIO()
        with contextlib.redirect_stdout(out) if not progress else contextlib.nullcontext():
            failed = Runner(config).run()
    finally:
        environment.PROVIDED.clear()
        behave_log.setLevel(level)
    sys.stdout.flush()
    return 1 if failed else 0
