"""Property tests for the cursor and the tie-aware page assembler.

The remote side is modelled as ``id -> modstamp``; a read is "every record at or after the
look-back bound, sorted by (modstamp, id), cut into batches". Example counts come from
CHANNEL_SYNC_PROPERTY_EXAMPLES; hypothesis prints the seed and a reproduction blob on failure.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from channel_sync.connectors.cursor import (
    Bound,
    Chunk,
    Cursor,
    CursorPolicy,
    PageAssembler,
    Stamped,
)
from channel_sync.errors import FatalError

EXAMPLES = int(os.environ.get("CHANNEL_SYNC_PROPERTY_EXAMPLES", "100"))
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

Remote = dict[str, datetime]


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def read(
    remote: Remote,
    cursor: Cursor | None,
    policy: CursorPolicy,
    batch: int,
    read_started: datetime | None = None,
) -> list[Chunk[str]]:
    """One incremental read of ``remote`` the way a connector does it."""
    bound = policy.lower_bound(cursor)
    rows = sorted((m, i) for i, m in remote.items() if bound is None or bound.admits(m))
    assembler: PageAssembler[str] = PageAssembler(cursor, policy, read_started)
    chunks: list[Chunk[str]] = []
    for start in range(0, len(rows), batch):
        part = [Stamped(i, m, i) for m, i in rows[start : start + batch]]
        chunk = assembler.push(part)
        if chunk is not None:
            chunks.append(chunk)
    tail = assembler.finish()
    if tail is not None:
        chunks.append(tail)
    return chunks


def ids(chunks: list[Chunk[str]]) -> list[str]:
    return [i for c in chunks for i in c.items]


# Few distinct modstamps for many records, so tie runs are long and straddle batches.
remotes = st.dictionaries(
    keys=st.from_regex(r"r[0-9]{1,3}", fullmatch=True),
    values=st.integers(min_value=0, max_value=40).map(at),
    max_size=60,
)
policies = st.builds(
    CursorPolicy,
    lookback=st.sampled_from([timedelta(0), timedelta(milliseconds=5), timedelta(seconds=1)]),
    resolution=st.sampled_from([timedelta(milliseconds=1), timedelta(milliseconds=7)]),
)
batches = st.integers(min_value=1, max_value=9)

prop = settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],  # the machine may be busy; the data is small
)


@prop
@given(remote=remotes, policy=policies, batch=batches)
def test_full_read_delivers_every_record_once(remote: Remote, policy: CursorPolicy, batch: int):
    chunks = read(remote, None, policy, batch)
    delivered = ids(chunks)
    assert sorted(delivered) == sorted(remote)


@prop
@given(remote=remotes, policy=policies, batch=batches)
def test_cursors_only_move_forward_and_never_split_a_tie(
    remote: Remote, policy: CursorPolicy, batch: int
):
    chunks = read(remote, None, policy, batch)
    for before, after in itertools.pairwise(chunks):
        assert after.cursor.position > before.cursor.position
        assert after.cursor.modstamp > before.cursor.modstamp
    for index, chunk in enumerate(chunks):
        mark = chunk.cursor.modstamp
        later = [i for c in chunks[index + 1 :] for i in c.items]
        assert all(remote[i] != mark for i in later), "a tie run was split across pages"
        assert max(remote[i] for i in chunk.items) == mark


@prop
@given(remote=remotes, policy=policies, batch=batches, data=st.data())
def test_resume_from_any_page_cursor_loses_and_repeats_nothing(
    remote: Remote, policy: CursorPolicy, batch: int, data: st.DataObject
):
    chunks = read(remote, None, policy, batch)
    if not chunks:
        return
    index = data.draw(st.integers(min_value=0, max_value=len(chunks) - 1), label="page")
    stored = Cursor.from_json(chunks[index].cursor.to_json())
    assert stored == chunks[index].cursor
    resumed = ids(read(remote, stored, policy, batch))
    expected = ids(chunks[index + 1 :])
    assert sorted(resumed) == sorted(expected)
    assert len(resumed) == len(set(resumed))


# A change history: (record, modstamp ms, visibility lag ms). A version becomes visible to reads
# at modstamp + lag; the look-back must cover the largest lag.
histories = st.lists(
    st.tuples(
        st.sampled_from([f"r{n}" for n in range(12)]),
        st.integers(min_value=0, max_value=120),
        st.integers(min_value=0, max_value=30),
    ),
    max_size=40,
)


@prop
@example(  # a late record read in the same pass as an older one already delivered
    history=[("r0", 1, 30), ("r1", 1, 0), ("r2", 0, 2)], read_times=[1], resolution_ms=1, batch=1
)
@example(  # a late record older than everything the start cursor remembers
    history=[("r0", 0, 2), ("r1", 1, 0)], read_times=[1, 31], resolution_ms=1, batch=1
)
@given(
    history=histories,
    read_times=st.lists(st.integers(min_value=0, max_value=160), max_size=6),
    resolution_ms=st.sampled_from([1, 7]),
    batch=batches,
)
def test_late_visible_changes_are_delivered_once_and_none_is_lost(
    history: list[tuple[str, int, int]], read_times: list[int], resolution_ms: int, batch: int
):
    policy = CursorPolicy(
        lookback=timedelta(milliseconds=30), resolution=timedelta(milliseconds=resolution_ms)
    )
    versions: dict[tuple[str, int], int] = {}
    for record, ms, lag in history:
        versions.setdefault((record, ms), ms + lag)
    final_time = max([*versions.values(), *read_times], default=0) + 1
    delivered: list[tuple[str, datetime]] = []
    cursor: Cursor | None = None
    for now_ms in [*sorted(read_times), final_time]:
        visible: dict[str, int] = {}
        for (record, ms), seen_at in versions.items():
            if seen_at <= now_ms and ms > visible.get(record, -1):
                visible[record] = ms
        remote = {record: at(ms) for record, ms in visible.items()}
        chunks = read(remote, cursor, policy, batch, read_started=at(now_ms))
        for chunk in chunks:
            assert cursor is None or chunk.cursor.position >= cursor.position
            cursor = chunk.cursor
            delivered += [(i, remote[i]) for i in chunk.items]
    assert len(delivered) == len(set(delivered)), "a version was delivered twice"
    latest: dict[str, int] = {}
    for record, ms in versions:
        latest[record] = max(ms, latest.get(record, -1))
    assert {(r, at(ms)) for r, ms in latest.items()} <= set(delivered)


def test_a_read_long_after_the_last_change_restarts_exactly_after_the_mark():
    policy = CursorPolicy(lookback=timedelta(seconds=30))
    remote = {f"r{n}": at(5) for n in range(50)}
    chunks = read(remote, None, policy, 10, read_started=at(5) + timedelta(minutes=5))
    cursor = chunks[-1].cursor
    assert cursor.seen == ()
    bound = policy.lower_bound(cursor)
    assert bound is not None
    assert (bound.value, bound.inclusive) == (at(5), False)
    # Soon after a change the read must look back; the bound is inclusive and rounded down.
    recent = CursorPolicy(lookback=timedelta(seconds=30), resolution=timedelta(seconds=1))
    near = Cursor(at(5), "r1", read_started=at(5) + timedelta(seconds=10))
    near_bound = recent.lower_bound(near)
    assert near_bound is not None
    assert near_bound.inclusive
    assert near_bound.value == recent.floor(at(5) - timedelta(seconds=20))


def test_a_tie_run_longer_than_a_batch_is_held_back_until_complete():
    remote = {f"r{n:04d}": at(5) for n in range(25)} | {"z1": at(9)}
    assembler: PageAssembler[str] = PageAssembler(None, CursorPolicy())
    rows = sorted((m, i) for i, m in remote.items())
    outputs = [
        assembler.push([Stamped(i, m, i) for m, i in rows[s : s + 10]]) for s in range(0, 26, 10)
    ]
    # The first two batches are all inside the tie run: nothing may be committed yet.
    assert outputs[0] is None
    assert outputs[1] is None
    third = outputs[2]
    assert third is not None
    assert len(third.items) == 25
    assert third.cursor.modstamp == at(5)
    tail = assembler.finish()
    assert tail is not None
    assert tail.items == ("z1",)


def test_out_of_order_feed_is_refused():
    assembler: PageAssembler[str] = PageAssembler(None, CursorPolicy())
    assembler.push([Stamped("a", at(10), "a")])
    with pytest.raises(FatalError, match="out of order"):
        assembler.push([Stamped("b", at(3), "b")])


def test_cursor_rejects_naive_datetimes_and_bad_json():
    with pytest.raises(ValueError, match="aware"):
        Cursor(datetime(2026, 1, 1), "x")
    with pytest.raises(FatalError, match="stored cursor"):
        Cursor.from_json({"id": "x"})


def test_lower_bound_rounds_down_to_the_filter_resolution():
    policy = CursorPolicy(lookback=timedelta(seconds=30), resolution=timedelta(seconds=1))
    cursor = Cursor(datetime(2026, 1, 5, 10, 0, 0, 750000, tzinfo=UTC), "006A")
    bound = policy.lower_bound(cursor)
    assert bound == Bound(datetime(2026, 1, 5, 9, 59, 30, tzinfo=UTC), inclusive=True)
    assert policy.lower_bound(None) is None
    # Long after the mark, a filter coarser than the modstamps still re-reads the mark's second.
    late = Cursor(cursor.modstamp, "006A", read_started=cursor.modstamp + timedelta(hours=1))
    assert policy.lower_bound(late) == Bound(datetime(2026, 1, 5, 10, 0, tzinfo=UTC), True)
    exact = CursorPolicy(lookback=timedelta(seconds=30))
    assert exact.lower_bound(late) == Bound(cursor.modstamp, inclusive=False)
