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
        from .certify import check_vectors
        from .plan import print_plan
        from .vectors.discovery import extra_dirs, extra_vectors

        with extra_vectors([*extra_dirs(), *(Path(v) for v in args.vectors or ())]):
            problem = check_vectors(extra_dirs())
            if problem:
                print(f"obsa certify: --vectors: {problem}", file=sys.stderr)
                return 2
            from .certify import _selection_problem

            problem = _selection_problem(args.select)
            if problem:
                print(f"obsa certify: {problem}", file=sys.stderr)
                return 2
            # the vendor's vectors' test cases too
            return print_plan(args.manifest, select=args.select)
    if args.out is None:
        print("obsa certify: --out DIR is required (where the report goes), unless --list",
              file=sys.stderr)
        return 2
    from .certify import run_certify
    from .report.wall import process_started

    jobs = _jobs(args.jobs)
    if jobs is None:
        return 2
    return run_certify(
        args.manifest, Path(args.out), progress=not args.no_progress, select=args.select,
        in_process=args.in_process, html=not args.no_html, png=args.png,
        started=process_started(), guard=True, suite=args.suite, fail_fast=args.fail_fast,
        vectors=[Path(v) for v in args.vectors or ()], jobs=jobs,
    )


JOBS_VARIABLE = "OBSA_JOBS"
"""The default of ``obsa certify --jobs`` when the option is not given."""


def _jobs(value: str | None) -> int | None:
    """``--jobs`` (or ``OBSA_JOBS``): a whole number ≥ 1 (default 1) or ``auto`` (every core
    this process may use); None after saying what is wrong. One process is the default: a
    process and its module wait for each other's replies by spinning, so two shares on two
    cores took twice as long as one (the safety core: 14.0 s against 7.3 s)."""
    where = "--jobs"
    if value is None:
        value, where = os.environ.get(JOBS_VARIABLE) or "1", JOBS_VARIABLE
    if value == "auto":
        cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        return len(cores) if cores else (os.cpu_count() or 1)
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        print(f"obsa certify: {where}: expected a whole number of processes of at least 1 or "
              f"'auto', found '{value}'", file=sys.stderr)
        return None
    return jobs


def _cmd_serve(args: argparse.Namespace) -> int:
    from .adapters.serve import serve_manifest

    code = serve_manifest(args.manifest, args.tcp)
    sys.stderr.flush()
    if args.tcp is None:
        os._exit(code)  # as the python transport's server: no waiting for a module's threads
    return code


def _fail(message: str) -> int:
    """A tool's bad input: one line on stderr, exit status 2."""
    print(f"obsa: {message}", file=sys.stderr)
    return 2


def _cmd_manifest_init(args: argparse.Namespace) -> int:
    from .tools import ToolError, load_bundled_spec
    from .tools.manifest_check import check_file
    from .tools.manifest_init import InitOptions, render_manifest

    try:
        spec = load_bundled_spec()
        text = render_manifest(spec, InitOptions(
            profiles=tuple(args.profiles), chemistry=args.chemistry, cells=args.cells,
            temperature_sensors=args.temperature_sensors, capacity_Ah=args.capacity,
            features=not args.no_features))
    except ToolError as exc:
        return _fail(str(exc))
    if args.out is None or args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if out.exists() and not args.force:
        return _fail(f"{out} exists (use --force to overwrite it)")
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail(f"{out}: cannot be written ({exc.strerror or exc})")
    issues = check_file(out, spec)
    for issue in issues:  # a pack the options make impossible, e.g. too many cells
        print(issue, file=sys.stderr)
    if issues:
        return _fail(f"wrote {out}, but obsa manifest check refuses it (the "
                     "problems above): edit it")
    print(f"wrote {out}: {args.chemistry}, {', '.join(args.profiles)}; "
          f"next: edit it, then obsa manifest check {out}")
    return 0


def _cmd_manifest_check(args: argparse.Namespace) -> int:
    from .tools import ToolError, load_bundled_spec
    from .tools.manifest_check import check_file, issues_json, resolve

    try:
        spec = load_bundled_spec()
    except ToolError as exc:
        return _fail(str(exc))
    path = resolve(args.file)
    issues = check_file(path, spec)
    if args.json:
        print(issues_json(issues))
    else:
        for issue in issues:
            print(issue)
        if len(issues) == 1:
            print(f"obsa: {path}: refused: {issues[0].message}", file=sys.stderr)
        elif issues:
            print(f"obsa: {path}: refused ({len(issues)} problems)", file=sys.stderr)
        else:
            print(f"{path}: accepted (spec {spec.version}; nothing was run)")
    return 2 if issues else 0


def _cmd_requirements(args: argparse.Namespace) -> int:
    from .tools import ToolError, load_bundled_spec
    from .tools.requirements import select, table

    try:
        spec = load_bundled_spec()
        lines = table(spec, select(spec, args.profile, args.area, args.component))
    except ToolError as exc:
        return _fail(str(exc))
    print("\n".join(lines))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .tools import ToolError, load_bundled_spec
    from .tools.requirements import show

    try:
        lines = show(load_bundled_spec(), args.requirement, args.manifest)
    except ToolError as exc:
        return _fail(str(exc))
    print("\n".join(lines))
    return 0


def _cmd_report_summary(args: argparse.Namespace) -> int:
    from .tools import ToolError
    from .tools.reports import summary

    try:
        lines = summary(args.report)
    except ToolError as exc:
        return _fail(str(exc))
    print("\n".join(lines))
    return 0


def _cmd_report_diff(args: argparse.Namespace) -> int:
    from .tools import ToolError
    from .tools.reports import diff_lines

    try:
        lines, code = diff_lines(args.old, args.new)
    except ToolError as exc:
        return _fail(str(exc))
    print("\n".join(lines))
    return code


class _Version(argparse.Action):
    """``--version``: computed only when asked (it loads the spec)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from .tools import version_lines

        print("\n".join(version_lines()))
        parser.exit()


def _add_tools(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The vendor's tools: scaffold and check a manifest, look up requirements, read and
    compare reports."""
    m = sub.add_parser("manifest", help="write a manifest for your profiles, or check one")
    m_sub = m.add_subparsers(dest="manifest_command", required=True)
    i = m_sub.add_parser(
        "init", help="write a complete, commented manifest for the chosen profiles "
        "(every parameter with unit, range, default and meaning)")
    i.add_argument("profiles", nargs="+", metavar="PROFILE",
                   help="profile(s) the module claims, e.g. bmu_safety_core")
    i.add_argument("--chemistry", default="nmc",
                   help="cell chemistry: nmc (default), nca, lfp, lto, lmo, lco, other; sets "
                   "the cell voltage limits")
    i.add_argument("--cells", type=int, default=None,
                   help="series cells (default: 96 NMC, 16 LFP, 24 LTO)")
    i.add_argument("--temperature-sensors", type=int, default=None,
                   help="cell temperature sensors (default: one per 4 cells)")
    i.add_argument("--capacity", type=float, default=50.0, metavar="AH",
                   help="rated capacity in Ah (default 50)")
    i.add_argument("--no-features", action="store_true",
                   help="claim none of the optional features (they are listed as comments)")
    i.add_argument("--out", default=None, metavar="FILE",
                   help="write here (default: standard output)")
    i.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    i.set_defaults(func=_cmd_manifest_init)
    k = m_sub.add_parser(
        "check", help="every check obsa certify makes of a manifest before a test, nothing "
        "run (exit 0 accepted, 2 refused or unreadable)")
    k.add_argument("file", metavar="FILE", help="module manifest (YAML), or 'reference'")
    k.add_argument("--json", action="store_true",
                   help="print the problems as a JSON list of {file, line, field, message}")
    k.set_defaults(func=_cmd_manifest_check)

    r = sub.add_parser("requirements", help="list the spec's requirements (ID, title, level, "
                       "verification, number of test cases)")
    r.add_argument("--profile", default=None, help="only the requirements of this profile")
    r.add_argument("--area", default=None, help="only this area, e.g. SAFE, CONT, PROT")
    r.add_argument("--component", default=None, help="only this component's requirements")
    r.set_defaults(func=_cmd_requirements)
    sh = sub.add_parser("show", help="one requirement: statement, criteria, rationale, and "
                        "the test cases and scenarios that verify it")
    sh.add_argument("requirement", metavar="ID", help="e.g. OBSA-SAFE-001")
    sh.add_argument("--manifest", default=None, metavar="FILE",
                    help="show the limits this manifest declares for the criteria")
    sh.set_defaults(func=_cmd_show)

    rep = sub.add_parser("report", help="read a report, or compare two")
    rep_sub = rep.add_subparsers(dest="report_command", required=True)
    su = rep_sub.add_parser("summary", help="the verdict table of a report in the terminal")
    su.add_argument("report", metavar="DIR", help="report directory (or its report.json)")
    su.set_defaults(func=_cmd_report_summary)
    d = rep_sub.add_parser(
        "diff", help="what changed between two runs (exit 0 no verdict changed, 1 some did)")
    d.add_argument("old", metavar="OLD", help="report directory (or report.json) of the "
                   "earlier run")
    d.add_argument("new", metavar="NEW", help="report directory (or report.json) of the "
                   "later run")
    d.set_defaults(func=_cmd_report_diff)


def _cmd_docs_build(args: argparse.Namespace) -> int:
    from .docs.runner import DocsUnavailable, build

    try:
        return build(Path(args.out), quiet=not args.verbose)
    except DocsUnavailable as exc:
        return _fail(str(exc))


def _add_docs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``obsa docs build``: the published standard, generated from the spec."""
    d = sub.add_parser("docs", help="build the published standard (HTML) from the spec")
    d_sub = d.add_subparsers(dest="docs_command", required=True)
    b = d_sub.add_parser(
        "build", help="build the HTML documentation with warnings as errors (exit 0 built, "
        "1 warnings or errors, 2 Sphinx not installed)")
    b.add_argument("--out", required=True, metavar="DIR", help="output directory (HTML)")
    b.add_argument("-v", "--verbose", action="store_true",
                   help="show Sphinx's progress and the build time")
    b.set_defaults(func=_cmd_docs_build)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="obsa",
        description="OBSA — Open BMS Standard Architecture: spec toolchain and conformance bench.",
    )
    parser.add_argument("--version", action=_Version,
                        help="print the tool's, the spec's and the report format's versions")
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
        "both: the same expression on each scenario's name and tags)"
    )
    c.add_argument(
        "--suite", choices=("pytest", "gherkin", "both"), default="pytest",
        help="the suite that judges the module: the pytest test cases (default), the Gherkin "
        "scenarios, or both in one run and one report where each requirement shows the "
        "verdict of each suite (a disagreement fails the run)")
    c.add_argument(
        "--vectors", action="append", metavar="DIR", default=None,
        help="a directory of your own test vectors (obsa-vector/1, each with the "
        "characterization it names beside it), judged in addition to the shipped ones by "
        "every test case that replays vectors of their kind; repeatable")
    c.add_argument(
        "--jobs", metavar="N", default=None,
        help="processes that share the test cases, each with its own start of the module "
        "(a whole number, or 'auto': every core; default: $OBSA_JOBS, else 1 — a process and "
        "its module spin while they wait for each other, so use at most half the cores); a "
        "module the bench does not start itself (TCP, a CAN node) runs in one")
    c.add_argument(
        "--in-process", action="store_true",
        help="run a python module, or a Python CAN node, inside this process (debugging and "
        "profiling only: the module can then reach the bench, so the run is never certified)",
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
    _add_tools(sub)
    _add_docs(sub)
    _add_telemetry(sub)
    _add_hmi(sub)
    return parser


def _add_telemetry(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``obsa telemetry collect``: the gateways' records from an MQTT broker into a database."""
    t = sub.add_parser("telemetry", help="collect the telemetry gateways publish")
    t_sub = t.add_subparsers(dest="telemetry_command", required=True)
    c = t_sub.add_parser(
        "collect", help="subscribe to the gateways' records on an MQTT broker and store each "
        "once in a database (until interrupted)")
    c.add_argument("--broker", required=True, metavar="URL",
                   help="mqtt://[user[:password]@]host[:port] or mqtts://… (TLS)")
    c.add_argument("--db", default="sqlite:///telemetry.sqlite", metavar="URL",
                   help="sqlite:///PATH (default: sqlite:///telemetry.sqlite) or "
                   "postgresql://[user[:password]@]host[:port]/database; the tables are "
                   "created on first use")
    c.add_argument("--ca-file", default=None, metavar="FILE",
                   help="CA bundle that signs the broker's certificate (mqtts://)")
    c.add_argument("--client-id", default="obsa-collector", metavar="ID",
                   help="MQTT client id: its persistent session keeps what arrives while the "
                   "collector is away (default obsa-collector)")
    c.add_argument("--duration", type=float, default=None, metavar="S",
                   help="stop after S seconds")
    c.add_argument("--count", type=int, default=None, metavar="N",
                   help="stop once the database holds N records")
    c.set_defaults(func=_cmd_telemetry_collect)


def _cmd_telemetry_collect(args: argparse.Namespace) -> int:
    from .telemetry.collector import collect

    return collect(args.broker, args.db, duration_s=args.duration, count=args.count,
                   ca_file=args.ca_file, client_id=args.client_id)


def _add_hmi(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``obsa hmi reference``: the reference full BMS on the bench plant behind the HMI API."""
    h = sub.add_parser("hmi", help="the HMI API over HTTP and its dashboard")
    h_sub = h.add_subparsers(dest="hmi_command", required=True)
    r = h_sub.add_parser(
        "reference", help="run the reference full BMS in closed loop with the bench plant "
        "behind the HMI API; open http://HOST:PORT/ for the dashboard (until interrupted)")
    r.add_argument("--speed", type=float, default=1.0, metavar="X",
                   help="simulated seconds per second (default 1: real time)")
    r.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    r.add_argument("--port", type=int, default=8000, metavar="P", help="TCP port (default 8000)")
    r.add_argument("--token", default=None,
                   help="require 'Authorization: Bearer TOKEN' (the page: ?token=TOKEN)")
    r.add_argument("--load", type=float, default=-20.0, metavar="A",
                   help="pack current the plant draws, A; positive charges (default -20)")
    r.set_defaults(func=_cmd_hmi_reference)


def _cmd_hmi_reference(args: argparse.Namespace) -> int:
    from reference_impl.hmi.runner import reference_loop, serve

    from .bench import Bench

    if not args.speed > 0:
        print(f"obsa hmi reference: --speed: expected a positive number, got {args.speed}",
              file=sys.stderr)
        return 2
    bench = Bench()
    bench.set_load_current(args.load)
    print(f"obsa hmi reference: dashboard on http://{args.host}:{args.port}/ "
          f"(simulated time ×{args.speed:g}; Ctrl-C stops)", flush=True)
    serve(reference_loop(bench, args.speed), args.host, args.port, args.token)
    return 0


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
