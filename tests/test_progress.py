"""Progress of long stages: log lines with counts and rates, rate-limited; a rich display on a
terminal; ``map_local`` ticking as items finish while returning results in order."""

from __future__ import annotations

import io
import logging
import time

import pytest

from expunge.ops import progress
from expunge.ops.workers import map_local


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger=progress.LOGGER)
    return lambda: [r.getMessage() for r in caplog.records if r.name == progress.LOGGER]


def test_a_line_gives_units_done_the_count_its_rate_and_the_seconds():
    tally = progress.Tally("decide", "partitions", 40, "charges", started=100.0, done=12, count=1_234_567)
    assert tally.line(127.0) == "decide: 12/40 partitions, 1,234,567 charges, 45,725 charges/s, 27 s"


def test_periodic_lines_come_at_most_every_interval_and_one_at_the_end(lines):
    clock = Clock()
    reporter = progress.LogLines(interval=10, clock=clock)
    with reporter.task("decide", "partitions", 25) as task:
        for _ in range(25):
            clock.now += 1
            task.advance(1, 1000)
    assert lines() == ["decide: 25 partitions to go",
                       "decide: 10/25 partitions, 10,000 charges, 1,000 charges/s, 10 s",
                       "decide: 20/25 partitions, 20,000 charges, 1,000 charges/s, 20 s",
                       "decide: 25/25 partitions, 25,000 charges, 1,000 charges/s, 25 s"]


def test_a_task_that_fails_still_ends_with_its_counts_marked_stopped(lines):
    clock = Clock()
    with pytest.raises(OSError), progress.LogLines(clock=clock).task("ingest", "byte ranges", 2, "rows") as task:
        clock.now = 4
        task.advance(1, 800)
        raise OSError("disk full")
    assert lines()[-1] == "ingest: 1/2 byte ranges, 800 rows, 200 rows/s, 4 s, stopped"


def test_a_terminal_gets_the_live_display_and_anything_else_log_lines():
    assert isinstance(progress.choose(stream=Tty()), progress.Terminal)
    assert isinstance(progress.choose(stream=io.StringIO()), progress.LogLines)
    assert isinstance(progress.for_command_line(True, Tty()), progress.Terminal)
    assert isinstance(progress.for_command_line(True, io.StringIO()), progress.LogLines)
    assert isinstance(progress.for_command_line(False, Tty()), progress.Silent)  # --no-progress


def test_the_live_display_shows_each_task_with_its_counts():
    screen = Tty()
    with progress.Terminal(screen).task("decide", "partitions", 2) as task:
        task.advance(1, 1500)
        task.advance(1, 1500)
    assert "decide" in screen.getvalue() and "2/2 partitions" in screen.getvalue()
    assert "3,000 charges" in screen.getvalue()


def test_lines_go_to_the_fallback_stream_only_when_no_handler_takes_them(monkeypatch):
    logger = logging.getLogger("expunge.progress.fallback-test")
    logger.propagate = False
    stream = io.StringIO()
    reporter = progress.LogLines(logger, fallback=stream)
    reporter.note("publish", "rollups done, 1.0 s")
    reporter.close()
    assert stream.getvalue().endswith(" publish: rollups done, 1.0 s\n") and not logger.handlers


def _echo_after(delay: float, value: str) -> str:
    time.sleep(delay)
    return value


@pytest.mark.parametrize("workers", [1, 2])
def test_map_local_ticks_once_per_item_and_returns_results_in_order(workers):
    ticks: list[tuple[int, str]] = []
    args = [(0.3, "a"), (0.0, "b"), (0.0, "c")]  # the first finishes last in two processes
    assert map_local(_echo_after, args, workers, on_done=lambda i, r: ticks.append((i, r))) == ["a", "b", "c"]
    assert sorted(ticks) == [(0, "a"), (1, "b"), (2, "c")]


def test_the_installed_reporter_is_used_until_the_run_ends():
    silent = progress.Silent()
    with progress.reporting(silent):
        assert progress.current() is silent
        with progress.unless_installed(progress.LogLines) as inner:
            assert inner is silent  # the flow keeps what `expunge run` chose
    assert progress.current() is not silent
