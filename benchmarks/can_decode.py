"""How fast the bench reads a CAN node's traffic, beside cantools' raw decode; not a test.

    .venv/bin/python benchmarks/can_decode.py [FRAMES]

Builds FRAMES frames (default 200 000) of the internal bus's catalog as a 12-module pack's
CMUs and its BMU send them (every frame and multiplexer value in turn, counters and CRCs
right), then times in the same run:

- cantools: ``Database.decode_message`` of each frame, the raw decode alone;
- the harness: :meth:`~conformance.adapters.can_frames.CatalogCodec.check` of each frame
  (identify, length, CRC, alive counter, decode) and the judging of OBSA-CAN-003 and 004
  over the whole log (every value against its range, every counter and CRC in sequence).

Prints frames per second of each and the frames judged (every frame, none lost). The issue's
target: at least 50 000 frames/s, ten times a saturated 500 kbit/s bus (about 3 700 frames/s
of 135 bits).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import can

from conformance.adapters.can_frames import CatalogCodec, Checked
from conformance.spec import load_spec
from conformance.suite.test_can import _e2e_errors


@dataclass
class _Log:
    log: list[Checked] = field(default_factory=list)


def _traffic(codec: CatalogCodec, n: int) -> list[can.Message]:
    frames = []
    for cf in codec.frames["internal_can"].values():
        m = cf.frame.multiplexer
        for mux in range(m.count) if m is not None else [None]:
            frames.append((cf.name, mux))
    out: list[can.Message] = []
    while len(out) < n:
        for name, mux in frames:
            values = {s.name: s.minimum if s.minimum is not None else 0
                      for s in codec.frame(name).message.signals}
            out.append(codec.encode(name, values, mux))
            if len(out) == n:
                break
    return out


def _out_of_range(log: list[Checked]) -> int:
    bad = 0
    for c in log:
        if c.frame is None:
            continue
        limits = c.frame.limits
        for name, value in c.values.items():
            lo, hi = limits.get(name, (value, value))
            if not lo <= value <= hi:
                bad += 1
    return bad


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    spec = load_spec()
    codec = CatalogCodec(spec)
    frames = _traffic(codec, n)
    db = codec.databases["internal_can"]

    t0 = time.perf_counter()
    for msg in frames:
        db.decode_message(msg.arbitration_id, msg.data, decode_choices=False)
    raw_s = time.perf_counter() - t0

    rig = _Log()
    t0 = time.perf_counter()
    rig.log = [codec.check(i * 1e-4, "internal_can", msg) for i, msg in enumerate(frames)]
    counters, crcs, _ = _e2e_errors(rig)  # type: ignore[arg-type]
    out_of_range = _out_of_range(rig.log)
    harness_s = time.perf_counter() - t0

    print(f"{n} frames of the internal bus's catalog")
    print(f"cantools decode_message: {n / raw_s:10.0f} frames/s")
    print(f"harness check + judge:   {n / harness_s:10.0f} frames/s "
          f"({len(rig.log)} judged, {n - len(rig.log)} lost; counter errors {counters}, "
          f"CRC errors {crcs}, out of range {out_of_range})")


if __name__ == "__main__":
    main()
