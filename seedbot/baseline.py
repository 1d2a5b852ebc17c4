"""Stored baselines: the versioned JSON layout, pool merging, and the local store.

SKELETON: types and signatures are the contract; the baseline work fills
them in. `merge_run` and the (de)serialisers are pure so the GitHub store
reuses them for its optimistic-lock retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol

from seedbot.scorecard import Scorecard, SweepResult

SCHEMA_VERSION = 1
DEFAULT_DIRECTORY = Path(".seedbot/baselines")
POOL_MAX_RUNS = 5
HISTORY_MAX_RUNS = 20


@dataclass(frozen=True, kw_only=True)
class BaselineRun:
    """One sweep saved as (part of) a baseline."""

    commit: str | None
    created_at: str  # ISO 8601, UTC
    config_hash: str
    dataset_hash: str
    provenance: Mapping[str, str | None]
    scorecards: tuple[Scorecard, ...]

    @classmethod
    def from_sweep(cls, sweep: SweepResult, *, created_at: str) -> "BaselineRun":
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Baseline:
    config_name: str
    pool: tuple[BaselineRun, ...]  # current regime, most recent first; never empty
    history: tuple[BaselineRun, ...] = ()  # earlier regimes, most recent first

    @property
    def latest(self) -> BaselineRun:
        return self.pool[0]

    def scores(self, metric: str) -> dict[tuple[int, int], float]:
        """Map (run index in pool, seed) -> score over the ok seeds of the whole pool."""
        raise NotImplementedError

    def latest_scores(self, metric: str) -> dict[int, float]:
        """Map seed -> score for the most recent run (used for pairing)."""
        raise NotImplementedError


def merge_run(
    baseline: Baseline | None,
    run: BaselineRun,
    *,
    config_name: str,
    new_pool: bool = False,
    pool_max: int = POOL_MAX_RUNS,
    history_max: int = HISTORY_MAX_RUNS,
) -> Baseline:
    """Add `run`: into the current pool when provenance and hashes match, else start a new pool."""
    raise NotImplementedError


def baseline_to_dict(baseline: Baseline) -> dict[str, Any]:
    raise NotImplementedError


def baseline_from_dict(raw: Mapping[str, Any], *, source: str) -> Baseline:
    """Validate a stored baseline: unknown keys warn, missing keys raise BaselineError naming them."""
    raise NotImplementedError


class BaselineStore(Protocol):
    def load(self, config_name: str) -> Baseline | None: ...

    def save(self, config_name: str, run: BaselineRun, *, new_pool: bool = False) -> Baseline: ...


class LocalBaselineStore:
    """One JSON file per config name in a directory (`.seedbot/baselines/` by default)."""

    def __init__(self, directory: Path = DEFAULT_DIRECTORY) -> None:
        self.directory = directory

    def load(self, config_name: str) -> Baseline | None:
        raise NotImplementedError

    def save(self, config_name: str, run: BaselineRun, *, new_pool: bool = False) -> Baseline:
        raise NotImplementedError
