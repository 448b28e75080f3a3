"""Progress of a run's long stages (ingest, decide, publish): units done, rows or charges
counted, and the rate, while the run works.

A reporter is chosen once per run and lives in the run's own process only (never in the
``RunPlan``, which worker processes receive): on a terminal a live ``rich`` display
(``Terminal``), elsewhere (Prefect's log, CI, cron) plain log lines under the
``expunge.progress`` logger (``LogLines``): one when a task starts, at most one every
``interval`` seconds while it works, and one when it ends, e.g.
``decide: 12/40 partitions, 1,234,567 charges, 45,678 charges/s, 27 s``.

``expunge run`` installs one for the run (``reporting``; ``--no-progress`` installs
``Silent``); the flow installs ``LogLines`` when nothing is installed, so its lines reach the
flow run's log; a run with nothing installed gets ``choose()`` afresh per stage. Stages tick
as work completes in this process: per byte range read, per partition decided or written,
per circuit's petitions, per publishing step.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TextIO

LOGGER = "expunge.progress"
#: Seconds between two periodic log lines at least.
INTERVAL = 10.0

Clock = Callable[[], float]


@dataclass
class Tally:
    """One task of a stage: ``done`` of ``total`` units (``what``), ``count`` of ``counted``."""

    stage: str
    what: str
    total: int
    counted: str
    started: float
    done: int = 0
    count: int = 0
    ended: float | None = None
    handle: Any = field(default=None, repr=False)  # the reporter's own (a rich task id)

    def seconds(self, now: float) -> float:
        return max(0.0, (now if self.ended is None else self.ended) - self.started)

    def rate(self, now: float) -> float:
        seconds = self.seconds(now)
        return self.count / seconds if seconds > 0 else 0.0

    def line(self, now: float) -> str:
        """``decide: 12/40 partitions, 1,234,567 charges, 45,678 charges/s, 27 s``."""
        return (f"{self.stage}: {self.done:,}/{self.total:,} {self.what}, {self.count:,} {self.counted}, "
                f"{self.rate(now):,.0f} {self.counted}/s, {self.seconds(now):,.0f} s")


class Task:
    """What a stage ticks: ``advance(done, count)`` as each unit of work completes."""

    def __init__(self, reporter: Reporter, tally: Tally) -> None:
        self.reporter = reporter
        self.tally = tally

    def advance(self, done: int = 1, count: int = 0) -> None:
        self.tally.done += done
        self.tally.count += count
        self.reporter._advanced(self.tally)


class Reporter:
    """Counts and times the tasks of a run's stages; subclasses show them."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock

    @contextmanager
    def task(self, stage: str, what: str, total: int, counted: str = "charges") -> Iterator[Task]:
        """A task of ``total`` units of ``stage``, shown from start to end (also when it fails)."""
        tally = Tally(stage, what, total, counted, self.clock())
        self._started(tally)
        ok = False
        try:
            yield Task(self, tally)
            ok = True
        finally:
            tally.ended = self.clock()
            self._ended(tally, ok)

    def note(self, stage: str, text: str) -> None:
        """One line about a stage (a publishing step done, say)."""

    def close(self) -> None:
        """The run is over (a live display stops)."""

    def _started(self, tally: Tally) -> None:
        pass

    def _advanced(self, tally: Tally) -> None:
        pass

    def _ended(self, tally: Tally, ok: bool) -> None:
        pass


class Silent(Reporter):
    """Shows nothing (``expunge run --no-progress``)."""


class LogLines(Reporter):
    """Plain lines through ``logging`` (logger ``expunge.progress``, level INFO): a task's size
    when it starts, its counts and rate at most every ``interval`` seconds, and when it ends.

    ``fallback``: a stream (``expunge run`` gives stderr) the lines go to when, at the first
    line, no handler would take them (no Prefect, no logging set up); a library run leaves
    logging to its caller."""

    def __init__(self, logger: logging.Logger | None = None, interval: float = INTERVAL,
                 clock: Clock = time.monotonic, fallback: TextIO | None = None) -> None:
        super().__init__(clock)
        self.logger = logger or logging.getLogger(LOGGER)
        if self.logger.level == logging.NOTSET:
            self.logger.setLevel(logging.INFO)  # the root logger (Prefect's: WARNING) would drop them
        self.interval = interval
        self._last = -math.inf
        self._fallback = fallback
        self._handler: logging.Handler | None = None

    def _log(self, text: str) -> None:
        if self._fallback is not None and self._handler is None and not self.logger.hasHandlers():
            self._handler = logging.StreamHandler(self._fallback)
            self._handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
            self.logger.addHandler(self._handler)
        self.logger.info(text)

    def _started(self, tally: Tally) -> None:
        self._last = tally.started
        what = tally.what[:-1] if tally.total == 1 and tally.what.endswith("s") else tally.what
        self._log(f"{tally.stage}: {tally.total:,} {what} to go")

    def _advanced(self, tally: Tally) -> None:
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            self._log(tally.line(now))

    def _ended(self, tally: Tally, ok: bool) -> None:
        self._last = self.clock()
        self._log(tally.line(self._last) + ("" if ok else ", stopped"))

    def note(self, stage: str, text: str) -> None:
        self._log(f"{stage}: {text}")

    def close(self) -> None:
        if self._handler is not None:
            self.logger.removeHandler(self._handler)
            self._handler = None


@lru_cache(maxsize=1)
def _tally_column() -> type:
    """A rich column showing what ``render(tally, now)`` says of a task, at a fixed width."""
    from rich.progress import ProgressColumn
    from rich.table import Column
    from rich.text import Text

    class TallyColumn(ProgressColumn):
        def __init__(self, render: Callable[[Tally, float], str], clock: Clock, width: int,
                     justify: str = "right") -> None:
            super().__init__(table_column=Column(width=width, justify=justify, no_wrap=True))  # type: ignore[arg-type]
            self.render_text, self.clock = render, clock

        def render(self, task: Any) -> Text:
            return Text(self.render_text(task.fields["tally"], self.clock()))

    return TallyColumn


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


class Terminal(Reporter):
    """A live ``rich`` display on ``stream`` (a terminal): one line per task with its bar,
    units done, count, rate and time (both running until the task ends, also once its units
    are all done: a stage's last steps). It is live only while a task runs, so the lines
    other code prints between tasks (Prefect's) stay readable; finished tasks stay on screen."""

    def __init__(self, stream: TextIO, clock: Clock = time.monotonic) -> None:
        super().__init__(clock)
        from rich.console import Console

        self.console = Console(file=stream)
        self._progress: Any = None
        self._live = 0

    def _display(self) -> Any:
        if self._progress is None:
            from rich.progress import BarColumn, Progress, TextColumn
            from rich.table import Column

            column = _tally_column()
            self._progress = Progress(
                TextColumn("[bold]{task.description}", table_column=Column(width=7, no_wrap=True)),
                BarColumn(bar_width=10),  # the line fits 80 columns
                column(lambda t, _: f"{t.done:,}/{t.total:,} {t.what}", self.clock, 16, "left"),
                column(lambda t, _: f"{t.count:,} {t.counted}", self.clock, 23),
                column(lambda t, now: f"{t.rate(now):,.0f}/s", self.clock, 10),
                column(lambda t, now: _clock_text(t.seconds(now)), self.clock, 7),
                console=self.console)
            self._progress.start()
        return self._progress

    def _started(self, tally: Tally) -> None:
        self._live += 1
        tally.handle = self._display().add_task(tally.stage, total=tally.total, tally=tally)

    def _advanced(self, tally: Tally) -> None:
        self._progress.update(tally.handle, completed=tally.done)

    def _ended(self, tally: Tally, ok: bool) -> None:
        self._advanced(tally)
        self._live -= 1
        if not self._live:
            self.close()

    def note(self, stage: str, text: str) -> None:
        self.console.print(f"{stage}: {text}", highlight=False)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()  # what it showed stays on screen; the next task starts a new display
            self._progress = None


def choose(mode: str = "auto", stream: TextIO | None = None) -> Reporter:
    """The reporter for ``mode``: ``auto`` (a live display when ``stream``, default stderr,
    is a terminal; else log lines), ``terminal``, ``log`` or ``off``."""
    stream = sys.stderr if stream is None else stream
    if mode == "off":
        return Silent()
    if mode == "terminal" or (mode == "auto" and _is_terminal(stream)):
        return Terminal(stream)
    if mode in ("auto", "log"):
        return LogLines()
    raise ValueError(f"unknown progress mode {mode!r}: auto, terminal, log or off")


def for_command_line(show: bool = True, stream: TextIO | None = None) -> Reporter:
    """What ``expunge run`` shows on stderr: a live display on a terminal, else log lines (to
    stderr when nothing else takes them); nothing with ``--no-progress``."""
    stream = sys.stderr if stream is None else stream
    if not show:
        return Silent()
    return Terminal(stream) if _is_terminal(stream) else LogLines(fallback=stream)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


_installed: Reporter | None = None


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Install ``reporter`` for the run in this process (every thread), closing it after."""
    global _installed
    before, _installed = _installed, reporter
    try:
        yield reporter
    finally:
        _installed = before
        reporter.close()


@contextmanager
def unless_installed(make: Callable[[], Reporter]) -> Iterator[Reporter]:
    """Install ``make()`` for the duration unless a reporter is installed already (the flow:
    log lines for its run's log, unless ``expunge run`` chose for its terminal)."""
    if _installed is not None:
        yield _installed
        return
    with reporting(make()) as reporter:
        yield reporter


def current() -> Reporter:
    """The installed reporter, else a fresh ``choose()``."""
    return _installed if _installed is not None else choose()
