"""The result of comparing a candidate sweep with a baseline: verdicts, arm summaries and their JSON form."""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np

from seedbot.config import DecisionConfig, Direction


class Verdict(str, enum.Enum):
    IMPROVED = "improved"
    REGRESSED = "regressed"
    NO_CHANGE = "no_change"
    INCONCLUSIVE = "inconclusive"
    NO_BASELINE = "no_baseline"

    @property
    def exit_code(self) -> int:
        """0 no regression, 1 regression, 3 inconclusive or no baseline (2 is invalid input)."""
        if self is Verdict.REGRESSED:
            return 1
        if self in (Verdict.INCONCLUSIVE, Verdict.NO_BASELINE):
            return 3
        return 0


@dataclass(frozen=True, kw_only=True)
class ArmSummary:
    """One arm (baseline or candidate) of one metric, over its ok seeds.

    `seeds` and `scores` list every ok seed, diverged ones included. The
    statistics (mean, std, median, iqm) cover only the seeds the test used,
    so they leave out `excluded`: diverged seeds when decision.exclude_diverged
    is set, and seeds without a partner under the paired rule.
    """

    seeds: tuple[int, ...]
    scores: tuple[float, ...]
    n_failed: int
    mean: float
    std: float  # sample standard deviation (ddof=1); nan when n < 2
    median: float
    iqm: float  # interquartile mean
    diverged: tuple[int, ...] = ()  # seeds flagged by the outlier test
    excluded: tuple[int, ...] = ()  # seeds left out of the statistics

    @property
    def n(self) -> int:
        return len(self.scores)


@dataclass(frozen=True, kw_only=True)
class MetricComparison:
    metric: str
    direction: Direction
    gating: bool
    rule: str  # the rule actually applied: welch, paired, band, mann-whitney, prediction-interval
    candidate: ArmSummary
    baseline: ArmSummary | None
    verdict: Verdict
    reason: str  # one sentence a reviewer can read
    band: tuple[float, float] | None = None  # baseline mean -/+ k * sigma
    delta: float | None = None  # candidate - baseline (means; medians for mann-whitney)
    ci: tuple[float, float] | None = None  # interval for delta at 1 - level
    p_value: float | None = None
    p_adjusted: float | None = None  # Holm-adjusted across gating metrics
    mde: float | None = None  # minimum detectable effect at 80% power for the n run
    seeds_needed: int | None = None  # per arm, to detect decision.min_effect at 80% power
    prob_superiority: float | None = None  # P(candidate seed beats baseline seed) = U / (n * m)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Comparison:
    config_name: str
    verdict: Verdict  # overall, over the gating metrics
    reason: str
    metrics: tuple[MetricComparison, ...]
    decision: DecisionConfig
    environment_changes: tuple[str, ...] = ()  # e.g. "torch 2.13.0 -> 2.14.1"
    notes: tuple[str, ...] = ()
    level: float | None = None  # significance level applied: alpha, or the Pocock level for adaptive sweeps

    @property
    def gating(self) -> tuple[MetricComparison, ...]:
        return tuple(m for m in self.metrics if m.gating)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict: enums as strings, tuples as lists, NaN and inf as None."""
        return {
            "config_name": self.config_name,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "level": _jsonable(self.level),
            "decision": _jsonable(asdict(self.decision)),
            "environment_changes": list(self.environment_changes),
            "notes": list(self.notes),
            "metrics": [_metric_to_dict(metric) for metric in self.metrics],
        }


def _metric_to_dict(metric: MetricComparison) -> dict[str, Any]:
    raw = {name: getattr(metric, name) for name in MetricComparison.__dataclass_fields__}
    for arm in ("candidate", "baseline"):
        summary = raw[arm]
        if summary is not None:
            raw[arm] = {name: getattr(summary, name) for name in ArmSummary.__dataclass_fields__} | {"n": summary.n}
    return _jsonable(raw)


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value
