"""How long the YAML reader takes to refuse hostile files, against reading a normal one.

A manifest or spec file written by someone else must never hang the tool. Each case is
read through :func:`conformance.manifest.read_manifest` (the path ``obsa certify`` takes)
and timed; the table gives the median time and its ratio to reading the reference
manifest. Cases: an alias bomb ("billion laughs", 9 and 30 levels), a 50 MB file, a file
just under the size bound (1 MiB of one long list: refused at the value bound), nesting at
and beyond the depth bound, a value just under the length bound, and a recursive alias.

Run: ``python benchmarks/hostile_yaml.py [-n 5]``. Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.manifest import read_manifest, safety_core_manifest_path  # noqa: E402
from conformance.spec.source import LIMITS  # noqa: E402
from tests.spec.helpers import billion_laughs  # noqa: E402


def _cases(tmp: Path) -> dict[str, Path]:
    reference = safety_core_manifest_path().read_text(encoding="utf-8")

    def write(name: str, text: str) -> Path:
        path = tmp / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    huge = tmp / "huge.yaml"
    with huge.open("w", encoding="utf-8") as f:
        f.write(reference)
        f.write("filler: |\n")
        line = "  " + "x" * 98 + "\n"
        f.write(line * (50 * 1024 * 1024 // len(line)))
    items = (LIMITS.max_bytes - len(reference) - 100) // 3
    nest = LIMITS.max_depth - 2
    return {
        "reference manifest": safety_core_manifest_path(),
        "billion laughs, 9 levels": write("bomb9", reference + billion_laughs(9, prefix="b")),
        "billion laughs, 30 levels": write("bomb30", reference + billion_laughs(30, prefix="b")),
        "recursive alias": write("recursive", reference + "loop: &l [*l]\n"),
        "50 MB file": huge,
        "1 MiB list of numbers (inside)": write("list", reference + "big: ["
                                                + "1, " * items + "1]\n"),
        f"nested {nest} deep (inside)": write("nest", reference + "n: " + "[" * nest + "]" * nest
                                              + "\n"),
        "nested 10 000 deep": write("deeper", reference + "n: " + "[" * 10_000 + "]" * 10_000
                                    + "\n"),
        "64 kB value (inside)": write("long", reference + "long: " + "y" * (64 * 1024 - 10)
                                      + "\n"),
    }


def _time(fn: Callable[[], object], n: int) -> float:
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="runs per case (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = _cases(Path(tmp))
        base = _time(lambda: read_manifest(cases["reference manifest"]), args.n)
        print(f"{'case':<32} {'size':>10} {'median':>10} {'ratio':>7}  outcome")
        for name, path in cases.items():
            seconds = _time(lambda p=path: read_manifest(p), args.n)  # type: ignore[misc]
            _, issues = read_manifest(path)
            outcome = str(issues[0]).replace(str(path), path.name)[:70] if issues else "read"
            print(f"{name:<32} {path.stat().st_size:>10} {seconds * 1000:>8.2f}ms "
                  f"{seconds / base:>6.1f}×  {outcome}")


if __name__ == "__main__":
    main()
