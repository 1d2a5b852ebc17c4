"""Collect each arm's usable seeds for one metric, flag diverged seeds and summarize the arms the test uses."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from seedbot import stats
from seedbot.comparison import ArmSummary
from seedbot.scorecard import Scorecard, SweepResult

if TYPE_CHECKING:
    from seedbot.baseline import Baseline


# A seed whose accuracy is within this of the always-majority-class accuracy
# learned nothing beyond the class prior, so it counts as diverged.
MAJORITY_MARGIN = 0.01


@dataclass(frozen=True)
class _Sample:
    """The usable (seed, score) pairs of one arm for one metric, and how many seeds were not usable."""

    seeds: tuple[int, ...]
    scores: tuple[float, ...]
    n_failed: int
    floor: float | None = None  # the always-majority-class accuracy, for the accuracy metric only

    @property
    def n_total(self) -> int:
        return len(self.scores) + self.n_failed


def _sample(cards: Sequence[Scorecard], metric: str, floor: float | None = None) -> _Sample:
    # A seed counts as failed for this metric when its run failed, the metric is
    # missing, or the score is NaN or infinite: it is counted, never averaged in.
    seeds, scores = [], []
    for card in cards:
        value = card.metrics.get(metric) if card.status == "ok" else None
        if value is not None and math.isfinite(float(value)):
            seeds.append(card.seed)
            scores.append(float(value))
    return _Sample(tuple(seeds), tuple(scores), len(cards) - len(seeds), floor)


def _pool_cards(baseline: "Baseline") -> tuple[Scorecard, ...]:
    return tuple(card for run in baseline.pool for card in run.scorecards)


def _sorted_by_seed(sample: _Sample) -> _Sample:
    order = sorted(range(len(sample.seeds)), key=lambda i: sample.seeds[i])
    return _Sample(tuple(sample.seeds[i] for i in order), tuple(sample.scores[i] for i in order), sample.n_failed, sample.floor)


def _diverged_flags(sample: _Sample, sign: float) -> np.ndarray:
    """Flag seeds far below the median (robust z-score), or at the majority-class level when it is known."""
    if not sample.scores:
        return np.zeros(0, dtype=bool)
    flags = stats.diverged_mask(sign * np.asarray(sample.scores, dtype=float))
    if sample.floor is not None:
        flags |= np.asarray(sample.scores, dtype=float) <= sample.floor + MAJORITY_MARGIN
    return flags


def _majority_floor(sweep: SweepResult, metric: str) -> float | None:
    """Return the always-majority-class accuracy the builtin runner recorded, for the accuracy metric."""
    value = sweep.extra.get("majority_accuracy") if sweep.extra else None
    return float(value) if metric == "accuracy" and isinstance(value, (int, float)) else None


def _summarize(sample: _Sample, sign: float, keep: np.ndarray) -> tuple[ArmSummary, np.ndarray]:
    """Summarize one arm over the seeds in `keep`; return it with the goodness-scale scores the test uses."""
    flags = _diverged_flags(sample, sign)
    values = np.asarray(sample.scores, dtype=float)[keep]
    summary = ArmSummary(
        seeds=sample.seeds,
        scores=sample.scores,
        n_failed=sample.n_failed,
        mean=float(np.mean(values)) if values.size else math.nan,
        std=float(np.std(values, ddof=1)) if values.size >= 2 else math.nan,
        median=float(np.median(values)) if values.size else math.nan,
        iqm=float(stats.interquartile_mean(values)) if values.size else math.nan,
        diverged=tuple(seed for seed, flag in zip(sample.seeds, flags) if flag),
        excluded=tuple(seed for seed, kept in zip(sample.seeds, keep) if not kept),
    )
    return summary, sign * values


def _choose_rule(rule: str, candidate: _Sample, latest: _Sample) -> str:
    if rule != "auto":
        return rule
    same_seeds = sorted(candidate.seeds) == sorted(latest.seeds) and len(set(candidate.seeds)) == len(candidate.seeds)
    return "paired" if same_seeds and candidate.seeds else "welch"


@dataclass(frozen=True)
class _Arms:
    """Both arms of one metric, summarized, with the goodness-scale scores the test uses."""

    candidate: ArmSummary
    baseline: ArmSummary
    candidate_used: np.ndarray
    baseline_used: np.ndarray
    candidate_total: int
    baseline_total: int
    notes: tuple[str, ...]


def _select_arms(rule: str, sign: float, candidate: _Sample, pooled: _Sample, latest: _Sample, exclude_diverged: bool) -> _Arms:
    """Pick the baseline arm (the pool, or the latest run when paired), align pairs and drop diverged seeds on request."""
    notes: list[str] = []
    baseline = pooled
    if rule == "paired":
        # Align both arms by seed and keep only the seeds both ran.
        candidate, baseline = _sorted_by_seed(candidate), _sorted_by_seed(latest)
        common = set(candidate.seeds) & set(baseline.seeds)
        unpaired = sorted(set(candidate.seeds) ^ set(baseline.seeds))
        if unpaired:
            notes.append(f"paired on the {len(common)} seeds both arms ran; seeds {unpaired} have no partner")
        keep_candidate = np.array([seed in common for seed in candidate.seeds], dtype=bool)
        keep_baseline = np.array([seed in common for seed in baseline.seeds], dtype=bool)
    else:
        keep_candidate = np.ones(len(candidate.scores), dtype=bool)
        keep_baseline = np.ones(len(baseline.scores), dtype=bool)

    diverged_candidate = _diverged_flags(candidate, sign)
    diverged_baseline = _diverged_flags(baseline, sign)
    if exclude_diverged:
        keep_candidate &= ~diverged_candidate
        keep_baseline &= ~diverged_baseline
        if rule == "paired":
            # A diverged seed on either side removes the pair.
            dropped = {seed for seed, flag in zip(candidate.seeds, diverged_candidate) if flag}
            dropped |= {seed for seed, flag in zip(baseline.seeds, diverged_baseline) if flag}
            keep_candidate &= np.array([seed not in dropped for seed in candidate.seeds], dtype=bool)
            keep_baseline &= np.array([seed not in dropped for seed in baseline.seeds], dtype=bool)

    candidate_summary, candidate_used = _summarize(candidate, sign, keep_candidate)
    baseline_summary, baseline_used = _summarize(baseline, sign, keep_baseline)
    for arm, summary in (("candidate", candidate_summary), ("baseline", baseline_summary)):
        if summary.diverged:
            action = "excluded from the statistics" if exclude_diverged else "kept in the statistics"
            notes.append(f"{arm} seeds {list(summary.diverged)} diverged (far below the median), {action}")
    return _Arms(candidate_summary, baseline_summary, candidate_used, baseline_used,
                 candidate.n_total, baseline.n_total, tuple(notes))
