"""Compare a candidate sweep with a baseline and decide the verdict. Pure: no I/O.

SKELETON: the result types are the contract for the report, the command
line and the GitHub side; the statistics work fills in `compare` and
`interim_decision` on top of `seedbot.stats`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seedbot.config import DecisionConfig, Direction, MetricsConfig
from seedbot.scorecard import SweepResult

if TYPE_CHECKING:
    from seedbot.baseline import Baseline


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
    """One arm (baseline or candidate) of one metric, over its ok seeds."""

    seeds: tuple[int, ...]
    scores: tuple[float, ...]
    n_failed: int
    mean: float
    std: float  # sample standard deviation (ddof=1); nan when n < 2
    median: float
    iqm: float  # interquartile mean
    diverged: tuple[int, ...] = ()  # seeds flagged by the outlier test

    @property
    def n(self) -> int:
        return len(self.scores)


@dataclass(frozen=True, kw_only=True)
class MetricComparison:
    metric: str
    direction: Direction
    gating: bool
    rule: str  # the rule actually applied: welch, paired, band, mann-whitney
    candidate: ArmSummary
    baseline: ArmSummary | None
    verdict: Verdict
    reason: str  # one sentence a reviewer can read
    band: tuple[float, float] | None = None  # baseline mean -/+ k * sigma
    delta: float | None = None  # candidate - baseline (means; medians for mann-whitney)
    ci: tuple[float, float] | None = None  # interval for delta at 1 - alpha
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

    @property
    def gating(self) -> tuple[MetricComparison, ...]:
        return tuple(m for m in self.metrics if m.gating)

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


def compare(
    candidate: SweepResult,
    baseline: "Baseline | None",
    *,
    metrics: MetricsConfig,
    decision: DecisionConfig,
) -> Comparison:
    """Decide the verdict of `candidate` against `baseline` for every computed metric."""
    raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class InterimDecision:
    stop: bool
    reason: str  # e.g. "stopped after 5 seeds: p = 0.004 < 0.0294 (Pocock, 2 looks)"


def interim_decision(
    candidate: SweepResult,
    baseline: "Baseline",
    *,
    metrics: MetricsConfig,
    decision: DecisionConfig,
) -> InterimDecision:
    """First look of the two-look group-sequential design for `seeds: {min, max}`."""
    raise NotImplementedError
