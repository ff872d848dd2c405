"""The gateway's buffer on disk: first in first out across reopening, the oldest records not
yet sent dropped and counted when full (never those on their way), sequence numbers going on
after a restart; a file that is no buffer, or a capacity below one, refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_impl.connectivity.disk_buffer import BufferError, SqliteBuffer


def _fill(buf: SqliteBuffer, n: int, sent: int | None = None) -> list[int]:
    return [buf.push({"k": i}, "seq", sent) for i in range(n)]


def test_first_in_first_out_across_a_reopening(tmp_path: Path) -> None:
    buf = SqliteBuffer(tmp_path / "b.sqlite", 10)
    assert _fill(buf, 4) == [0, 1, 2, 3]
    buf.delete(0)
    buf.close()
    again = SqliteBuffer(tmp_path / "b.sqlite", 10)
    assert [s for s, _ in again.after(None, 10)] == [1, 2, 3]
    assert again.push({"k": 9}, "seq") == 4  # numbers go on
    assert again.after(2, 10)[0] == (3, '{"seq":3,"k":3}')


def test_a_full_buffer_drops_the_oldest_unsent_and_counts(tmp_path: Path) -> None:
    buf = SqliteBuffer(tmp_path / "b.sqlite", 5)
    _fill(buf, 3)
    # records 0 and 1 are on their way: a full buffer keeps them and drops 2, 3, …
    for i in range(3, 9):
        buf.push({"k": i}, "seq", sent_up_to=1)
    assert [s for s, _ in buf.after(None, 10)] == [0, 1, 6, 7, 8]
    assert (len(buf), buf.dropped) == (5, 4)


@pytest.mark.parametrize(("content", "capacity", "expected"), [
    (b"not a database, just text" * 100, 5, "expected a telemetry buffer (SQLite)"),
    (None, 0, "capacity: expected an integer ≥ 1, found 0"),
], ids=["not_sqlite", "no_room"])
def test_a_bad_buffer_is_refused_by_name(tmp_path: Path, content: bytes | None, capacity: int,
                                         expected: str) -> None:
    path = tmp_path / "b.sqlite"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BufferError) as err:
        SqliteBuffer(path, capacity)
    assert expected in str(err.value)
