"""LogWatch: a partition log that went back (broker restarted empty, topic recreated) is noticed once."""

from __future__ import annotations

from services.queue.log_watch import LogWatch


def test_growing_logs_are_fine() -> None:
    watch = LogWatch()
    for offset in range(3):
        watch.sent(0, offset)
    watch.sent(1, 0)
    watch.check({0: 3, 1: 5})
    assert not watch.take_lost() and watch.last == {0: 2, 1: 0}


def test_an_end_offset_at_or_below_an_acknowledged_offset_means_lost() -> None:
    watch = LogWatch()
    watch.sent(0, 4)
    watch.check({0: 4})  # message 4 was acknowledged, so the end must be at least 5
    assert watch.take_lost()
    assert not watch.take_lost() and watch.last == {}  # reported once; the watch starts over


def test_a_partition_missing_from_the_answer_counts_as_empty() -> None:
    watch = LogWatch()
    watch.sent(2, 0)
    watch.check({})
    assert watch.take_lost()


def test_a_send_acknowledged_at_an_offset_seen_before_means_lost() -> None:
    watch = LogWatch()
    watch.sent(0, 7)
    watch.sent(0, 0)  # the new, empty log's first message
    assert watch.take_lost()
    watch.sent(0, 0)
    watch.sent(0, 1)
    assert not watch.take_lost()
