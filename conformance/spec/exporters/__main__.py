"""``python -m conformance.spec.exporters [--check] [SPEC_DIR]``: regenerate in place.

Rewrites every checked-in artefact of the repository from the spec (and removes the ones
no longer generated). With ``--check`` nothing is written: exit 1 lists what drifted, for CI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import (
    CHECKED_IN,
    REGENERATE,
    _checked_spec,
    _write_changed,
    drift,
    metaschema,
    regenerate,
    repo_root,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=None,
                        help="spec directory (default: the repository's spec/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a checked-in artefact drifted")
    args = parser.parse_args(argv)
    root = repo_root()
    early: list[Path] = []
    if not args.check:
        # the format schemas come from the models alone, and the spec is validated against
        # them: refresh them first, so that a change of the format can be regenerated
        early = _write_changed(metaschema.render(), root / CHECKED_IN["metaschema"].directory)
    spec = _checked_spec(args.path if args.path else root / "spec", REGENERATE)
    if isinstance(spec, int):
        return spec
    if args.check:
        problems = drift(spec, root)
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} generated file(s) out of date; run `{REGENERATE}`")
            return 1
        print("every generated artefact matches the spec")
        return 0
    changed, removed = regenerate(spec, root)
    changed = early + changed
    for p in changed:
        print(f"wrote   {p.relative_to(root)}")
    for p in removed:
        print(f"removed {p.relative_to(root)}")
    print(f"spec {spec.version}: {len(changed)} written, {len(removed)} removed, "
          "every other artefact already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
