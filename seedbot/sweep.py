"""The seed sweep: one runner, N seeds, one scorecard each.

SKELETON: the Runner protocol and `run_sweep` signature are the contract;
the sweep work fills them in (with seedbot/runners/builtin.py and
seedbot/runners/command.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence

from seedbot.config import Config
from seedbot.scorecard import Scorecard, SweepResult


class Progress(Protocol):
    """Receives progress events; the terminal and Actions reporters implement it."""

    def seed_started(self, seed: int, index: int, total: int) -> None: ...

    def step(self, seed: int, step: int, total_steps: int) -> None: ...

    def seed_finished(self, card: Scorecard) -> None: ...


class Runner(Protocol):
    """Trains and evaluates one seed. Raising (or returning NaN) marks the seed failed."""

    def prepare(self, config: Config) -> None:
        """One-time work per sweep (builtin: load the base model and tokenize the data)."""

    def run_seed(self, seed: int, output_dir: Path, progress: Progress) -> Mapping[str, float]:
        """Train and evaluate with `seed`; save artifacts under output_dir; return the metrics."""


def make_runner(config: Config) -> Runner:
    """Build the runner that config.runner.kind names."""
    raise NotImplementedError


def run_sweep(
    config: Config,
    *,
    output_dir: Path,
    seeds: Sequence[int] | None = None,
    runner: Runner | None = None,
    progress: Progress | None = None,
    commit: str | None = None,
    should_stop: Callable[[SweepResult], str | None] | None = None,
) -> SweepResult:
    """Run every seed (default config.seeds.seeds), writing `seed-<n>.json` and `results.json`.

    `should_stop` is called after each seed with the partial result; a non-None
    return is the stop reason (used by adaptive seed counts).
    """
    raise NotImplementedError
