"""Progress reporters for a sweep: terminal, GitHub Actions, quiet and silent.

All of them implement seedbot.sweep.Progress and write to stderr by default,
so stdout stays free for the verdict.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, TextIO

from seedbot.log import group, in_actions
from seedbot.scorecard import Scorecard


class SilentProgress:
    """Prints nothing; the default when a caller passes no reporter."""

    def seed_started(self, seed: int, index: int, total: int) -> None:
        pass

    def step(self, seed: int, step: int, total_steps: int) -> None:
        pass

    def seed_finished(self, card: Scorecard) -> None:
        pass


class QuietProgress(SilentProgress):
    """One line per finished seed, for CI logs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.index = 0
        self.total = 0

    def seed_started(self, seed: int, index: int, total: int) -> None:
        self.index, self.total = index, total

    def seed_finished(self, card: Scorecard) -> None:
        self._print(f"seed {card.seed} ({self.index}/{self.total}): {summarize(card)}")

    def _print(self, line: str) -> None:
        print(line, file=self.stream or sys.stderr, flush=True)


class TerminalProgress(QuietProgress):
    """Seed i/N, its step, elapsed and estimated remaining time.

    A step line is printed each time another tenth of the seed's steps is done,
    or after `interval_s` seconds without a line, never on every step.
    """

    def __init__(
        self, stream: TextIO | None = None, *, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(stream)
        self.interval_s = interval_s
        self.clock = clock
        self.sweep_start: float | None = None
        self.seed_start = 0.0
        self.last_line = 0.0
        self.last_tenth = 0
        self.finished_durations: list[float] = []

    def seed_started(self, seed: int, index: int, total: int) -> None:
        super().seed_started(seed, index, total)
        now = self.clock()
        if self.sweep_start is None:
            self.sweep_start = now
        self.seed_start = self.last_line = now
        self.last_tenth = 0
        self._print(f"seed {seed} ({index}/{total}): started")

    def step(self, seed: int, step: int, total_steps: int) -> None:
        now = self.clock()
        tenth = step * 10 // max(total_steps, 1)
        if tenth <= self.last_tenth and now - self.last_line < self.interval_s:
            return
        self.last_tenth, self.last_line = tenth, now

        elapsed = now - self.seed_start
        seed_left = elapsed / step * (total_steps - step) if step else 0.0
        # Seeds still to run are estimated from the finished ones, or from this seed's pace.
        per_seed = (
            sum(self.finished_durations) / len(self.finished_durations)
            if self.finished_durations
            else elapsed + seed_left
        )
        sweep_left = seed_left + per_seed * (self.total - self.index)
        self._print(
            f"seed {seed} ({self.index}/{self.total}): step {step}/{total_steps}, "
            f"{format_duration(elapsed)} elapsed, ~{format_duration(seed_left)} left for this seed, "
            f"~{format_duration(sweep_left)} for the sweep"
        )

    def seed_finished(self, card: Scorecard) -> None:
        self.finished_durations.append(card.duration_s)
        super().seed_finished(card)


class ActionsProgress(TerminalProgress):
    """TerminalProgress with each seed's lines folded into an Actions `::group::`.

    The one-line result of each seed is printed after the group closes, so it
    stays visible in a collapsed log.
    """

    def __init__(self, stream: TextIO | None = None, *, interval_s: float = 10.0) -> None:
        super().__init__(stream, interval_s=interval_s)
        self.open_group = contextlib.ExitStack()

    def seed_started(self, seed: int, index: int, total: int) -> None:
        self.open_group.close()
        self.open_group.enter_context(group(f"seed {seed} ({index}/{total})", actions=True))
        super().seed_started(seed, index, total)

    def seed_finished(self, card: Scorecard) -> None:
        self.open_group.close()
        super().seed_finished(card)


def make_progress(*, quiet: bool = False, actions: bool | None = None, stream: TextIO | None = None) -> SilentProgress:
    """Pick the reporter: quiet for CI logs, grouped in Actions, else the terminal one."""
    if quiet:
        return QuietProgress(stream)
    if in_actions() if actions is None else actions:
        return ActionsProgress(stream)
    return TerminalProgress(stream)


def summarize(card: Scorecard) -> str:
    """Summarize a finished seed in one line: status, duration and metrics, or the error."""
    if card.status != "ok":
        return f"failed after {format_duration(card.duration_s)}: {card.error}"
    metrics = ", ".join(f"{name} {value:.4g}" for name, value in card.metrics.items())
    return f"ok in {format_duration(card.duration_s)}: {metrics}"


def format_duration(seconds: float) -> str:
    """Format seconds as "42 s", "3 min 05 s" or "1 h 02 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
