"""Per-seed scorecards and the sweep result that aggregates them.

SKELETON: the types and the JSON layout are the contract; the sweep work
fills in the atomic writes and readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

SCHEMA_VERSION = 1
Status = Literal["ok", "failed"]


@dataclass(frozen=True, kw_only=True)
class Scorecard:
    seed: int
    status: Status
    metrics: Mapping[str, float]  # empty when failed; never holds NaN for an ok seed
    duration_s: float
    config_hash: str
    dataset_hash: str
    provenance: Mapping[str, str | None]  # python, torch, transformers, peft, device, cuda, cpu_capability, ...
    error: str | None = None  # one line: the exception type and message, for a failed seed

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Scorecard":
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class SweepResult:
    config_name: str
    config_hash: str
    dataset_hash: str
    scorecards: tuple[Scorecard, ...]
    provenance: Mapping[str, str | None]
    commit: str | None = None
    stop_reason: str | None = None  # adaptive sweeps: why it stopped after fewer seeds
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> tuple[Scorecard, ...]:
        return tuple(card for card in self.scorecards if card.status == "ok")

    @property
    def failed(self) -> tuple[Scorecard, ...]:
        return tuple(card for card in self.scorecards if card.status != "ok")

    def scores(self, metric: str) -> dict[int, float]:
        """Map seed -> score for the ok seeds that have `metric`."""
        return {card.seed: float(card.metrics[metric]) for card in self.ok if metric in card.metrics}

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "SweepResult":
        raise NotImplementedError


def write_scorecard(card: Scorecard, directory: Path) -> Path:
    """Write `seed-<n>.json` atomically (temp file + os.replace) and return its path."""
    raise NotImplementedError


def write_results(result: SweepResult, path: Path) -> Path:
    """Write the aggregated results file atomically."""
    raise NotImplementedError


def read_results(path: Path) -> SweepResult:
    raise NotImplementedError
