"""The ``obsa`` command line: validate and export the spec, certify a module."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _cmd_validate(args: argparse.Namespace) -> int:
    from .spec.validate import run_validate

    return run_validate(args.path, quiet=args.quiet)


def _cmd_export(args: argparse.Namespace) -> int:
    from .spec.exporters import run_export

    return run_export(args.path, Path(args.out))


def _cmd_certify(args: argparse.Namespace) -> int:
    if args.list:
        from .plan import print_plan

        return print_plan(args.manifest)
    if args.out is None:
        print("obsa certify: --out DIR is required (where the report goes), unless --list",
              file=sys.stderr)
        return 2
    from .certify import run_certify
    from .report.wall import process_started

    return run_certify(
        args.manifest, Path(args.out), progress=not args.no_progress, select=args.select,
        in_process=args.in_process, html=not args.no_html, png=args.png,
        started=process_started(), guard=True, suite=args.suite, fail_fast=args.fail_fast,
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from .adapters.serve import serve_manifest

    code = serve_manifest(args.manifest, args.tcp)
    sys.stderr.flush()
    if args.tcp is None:
        os._exit(code)  # as the python transport's server: no waiting for a module's threads
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="obsa",
        description="OBSA — Open BMS Standard Architecture: spec toolchain and conformance bench.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    spec = sub.add_parser("spec", help="validate or export the machine-readable spec")
    spec_sub = spec.add_subparsers(dest="spec_command", required=True)
    v = spec_sub.add_parser(
        "validate", help="check every spec file (exit 0 valid, 1 invalid, 2 unreadable)"
    )
    v.add_argument(
        "path", nargs="?", default=None, help="spec directory (default: the bundled spec)"
    )
    v.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    v.set_defaults(func=_cmd_validate)
    e = spec_sub.add_parser("export", help="write every generated artefact of the spec")
    e.add_argument(
        "path", nargs="?", default=None, help="spec directory (default: the bundled spec)"
    )
    e.add_argument("--out", required=True, help="output directory")
    e.set_defaults(func=_cmd_export)

    c = sub.add_parser(
        "certify", help="run the conformance suite against a module and write the report"
    )
    c.add_argument(
        "manifest", help="module manifest (YAML), or 'reference' for the reference implementation"
    )
    c.add_argument(
        "--out", default=None, help="report directory (report.json, junit.xml, report.html); "
        "required unless --list"
    )
    c.add_argument("--list", action="store_true",
                   help="print what would run for this manifest, and why each other "
                   "requirement would not; run nothing")
    c.add_argument("-x", "--fail-fast", action="store_true",
                   help="stop at the first verdict that is not a pass (the requirements not "
                   "run are inconclusive, saying so)")
    c.add_argument("--no-progress", action="store_true", help="no progress display")
    c.add_argument("--no-html", action="store_true",
                   help="write report.json and junit.xml only (no report.html)")
    c.add_argument("--png", action="store_true",
                   help="also export every evidence plot as a PNG file to "
                   "OUT/evidence-png/ (report.html draws its plots in the browser)")
    c.add_argument(
        "-k", dest="select", default=None,
        help="only test cases matching this pytest -k expression (with --suite gherkin or "
        "both: also only the scenarios whose name matches it as a regular expression)"
    )
    c.add_argument(
        "--suite", choices=("pytest", "gherkin", "both"), default="pytest",
        help="the suite that judges the module: the pytest test cases (default), the Gherkin "
        "scenarios, or both in one run and one report where each requirement shows the "
        "verdict of each suite (a disagreement fails the run)")
    c.add_argument(
        "--in-process", action="store_true",
        help="run a python module inside this process (debugging and profiling only: the "
        "module can then reach the bench, so the run is never certified)",
    )
    c.set_defaults(func=_cmd_certify)

    s = sub.add_parser(
        "serve", help="serve the Python module a manifest names over the wire contract "
        "(JSON-RPC, one object per line) on stdio or TCP"
    )
    s.add_argument("manifest", help="module manifest with adapter.type python, or 'reference'")
    s.add_argument("--tcp", metavar="HOST:PORT", default=None,
                   help="listen on TCP instead of stdio, one session per connection "
                   "(port 0: any free port, printed on stderr)")
    s.set_defaults(func=_cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("obsa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (obsa ... | head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit's flush cannot fail again
        return 141  # 128 + SIGPIPE, as a shell reports it


if __name__ == "__main__":
    sys.exit(main())
