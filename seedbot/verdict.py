"""Compare a candidate sweep with a baseline and decide the verdict. Pure: no I/O.

The tests themselves are in `seedbot.stats`. `seedbot.arms` collects each
arm's seeds and checks seed health (failed, diverged and identical seeds),
and `seedbot.metric_rules` applies the rule to one metric. This module
corrects several gating metrics with Holm-Bonferroni and turns them into one
verdict with a reason a reviewer can read. Every test runs on the "goodness"
scale (scores negated where lower is better), and deltas and intervals are
reported back in metric units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from seedbot import provenance, stats
from seedbot.arms import _diverged_flags, _majority_floor, _pool_cards, _sample, _summarize
from seedbot.comparison import ArmSummary, Comparison, MetricComparison, Verdict
from seedbot.config import DecisionConfig, MetricsConfig
from seedbot.errors import StatisticsError
from seedbot.metric_rules import _compare_metric, _decide, _Draft, _p_text
from seedbot.scorecard import Scorecard, SweepResult

if TYPE_CHECKING:
    from seedbot.baseline import Baseline

POCOCK_LOOKS = 2

__all__ = ["ArmSummary", "Comparison", "InterimDecision", "MetricComparison", "Verdict", "compare", "interim_decision"]


# --- several metrics --------------------------------------------------------------------


def _metric_names(metrics: MetricsConfig) -> tuple[str, ...]:
    return tuple(dict.fromkeys(metrics.compute + metrics.gate))


def _compare_all(candidate: SweepResult, baseline: "Baseline", metrics: MetricsConfig, decision: DecisionConfig, level: float) -> list[_Draft]:
    pool_cards = _pool_cards(baseline)
    same_data = baseline.latest.dataset_hash == candidate.dataset_hash
    drafts = []
    for metric in _metric_names(metrics):
        floor = _majority_floor(candidate, metric)
        baseline_floor = floor if same_data else None
        drafts.append(_compare_metric(
            metric,
            gating=metric in metrics.gate,
            direction=metrics.direction_of(metric),
            candidate=_sample(candidate.scorecards, metric, floor),
            pooled=_sample(pool_cards, metric, baseline_floor),
            latest=_sample(baseline.latest.scorecards, metric, baseline_floor),
            decision=decision,
            level=level,
        ))

    # Holm-Bonferroni across the gating metrics that a p-value decides.
    tested = [draft for draft in drafts if draft.tested and draft.comparison.gating]
    if tested:
        adjusted = stats.holm_adjust([draft.comparison.p_value for draft in tested])
        for draft, p_adjusted in zip(tested, adjusted):
            draft.comparison = replace(draft.comparison, p_adjusted=float(p_adjusted))
            _decide(draft, p_used=float(p_adjusted), level=level, min_effect=decision.min_effect)
    return drafts


def _adaptive_level(candidate: SweepResult, decision: DecisionConfig) -> tuple[float, tuple[str, ...]]:
    """Return the significance level and the note for the final look of an adaptive sweep."""
    adaptive = candidate.extra.get("adaptive") if candidate.extra else None
    if not adaptive:
        return decision.alpha, ()
    looks = adaptive.get("looks", POCOCK_LOOKS)
    if looks != POCOCK_LOOKS:
        raise StatisticsError(f"adaptive.looks: only a {POCOCK_LOOKS}-look design is supported, got {looks!r}")
    # NOTE: the sweep records only the number of looks, so the level assumes equally
    # spaced looks (min = max / 2); other ratios get a slightly different exact level.
    level = stats.pocock_level(decision.alpha)
    look = adaptive.get("stopped_at_look", POCOCK_LOOKS)
    stop_explanation = candidate.stop_reason or (
        "stopped early at the first look" if look == 1 else "ran up to the maximum seed count"
    )
    note = (f"adaptive seeds: ran {len(candidate.scorecards)} candidate seeds, look {look} of {looks}: {stop_explanation}; "
            f"tested at the Pocock level {level:.4f} instead of alpha {decision.alpha:g}")
    return level, (note,)


def _failure_notes(arm: str, cards: Sequence[Scorecard]) -> tuple[str, ...]:
    failed = [card for card in cards if card.status != "ok"]
    if not failed:
        return ()
    seeds = ", ".join(str(card.seed) for card in failed)
    return (f"{len(failed)} of {len(cards)} {arm} seeds failed (seeds {seeds}); they are counted but never averaged in",)


def _shortfall(candidate: SweepResult) -> str | None:
    """Describe the candidate seeds that failed or never ran, or return None when every planned seed is ok.

    Seeds left out by an adaptive early stop are not missing (see SweepResult.missing).
    """
    failed = [card.seed for card in candidate.failed]
    missing = candidate.missing
    parts = []
    if failed:
        parts.append(f"{len(failed)} candidate seed(s) failed ({', '.join(map(str, failed))})")
    if missing:
        parts.append(f"{len(missing)} planned seed(s) never ran ({', '.join(map(str, missing))})")
    return " and ".join(parts) or None


def _environment_changes(candidate: SweepResult, baseline: "Baseline") -> tuple[str, ...]:
    latest = baseline.latest
    changes = list(provenance.differences(latest.provenance, candidate.provenance))
    if latest.dataset_hash != candidate.dataset_hash:
        changes.append(f"dataset_hash {latest.dataset_hash[:12]} -> {candidate.dataset_hash[:12]}")
    return tuple(changes)


def compare(
    candidate: SweepResult,
    baseline: "Baseline | None",
    *,
    metrics: MetricsConfig,
    decision: DecisionConfig,
) -> Comparison:
    """Decide the verdict of `candidate` against `baseline` for every computed metric.

    The overall verdict, over the gating metrics:
    - inconclusive when any gating metric could not be tested (too few usable
      seeds, identical seeds that did not regress beyond the baseline's
      prediction interval, Mann-Whitney below 4 seeds);
    - inconclusive instead of improved or no_change when a candidate seed failed
      or a planned seed never ran, so a sweep with failures never passes;
    - regressed when any gating metric regressed, but inconclusive instead when
      the environment changed and decision.fail_on_environment_change is off;
    - improved when at least one improved and none regressed;
    - no_change otherwise.
    """
    level, notes = _adaptive_level(candidate, decision)
    notes += _failure_notes("candidate", candidate.scorecards)

    if baseline is None:
        summaries = []
        for metric in _metric_names(metrics):
            sign = 1.0 if metrics.direction_of(metric) == "higher" else -1.0
            sample = _sample(candidate.scorecards, metric, _majority_floor(candidate, metric))
            keep = np.ones(len(sample.scores), dtype=bool)
            if decision.exclude_diverged:
                keep &= ~_diverged_flags(sample, sign)
            summary, _ = _summarize(sample, sign, keep)
            summaries.append(MetricComparison(
                metric=metric, direction=metrics.direction_of(metric), gating=metric in metrics.gate, rule="none",
                candidate=summary, baseline=None, verdict=Verdict.NO_BASELINE, reason=f"{metric}: no baseline to compare with",
            ))
        reason = (f"no baseline stored for config {candidate.config_name!r}; "
                  "save one from a main-branch sweep with `seedbot baseline save`")
        return Comparison(config_name=candidate.config_name, verdict=Verdict.NO_BASELINE, reason=reason,
                          metrics=tuple(summaries), decision=decision, notes=notes, level=level)

    notes += _failure_notes("baseline", _pool_cards(baseline))
    drafts = _compare_all(candidate, baseline, metrics, decision, level)
    comparisons = tuple(draft.comparison for draft in drafts)
    gating = [m for m in comparisons if m.gating]
    changes = _environment_changes(candidate, baseline)
    verdict, reason = _overall(gating)

    shortfall = _shortfall(candidate)
    if shortfall and verdict in (Verdict.IMPROVED, Verdict.NO_CHANGE):
        verdict = Verdict.INCONCLUSIVE
        reason = (f"{shortfall}, and a sweep with failed or missing seeds never passes: {reason}; "
                  "fix the failing seeds (see their errors) and rerun")

    if changes:
        described = ", ".join(changes)
        if verdict is Verdict.REGRESSED and not decision.fail_on_environment_change:
            verdict = Verdict.INCONCLUSIVE
            reason = (f"environment changed since the baseline ({described}), so the regression is not reported: {reason}; "
                      "save a baseline on the new environment, or set decision.fail_on_environment_change")
        else:
            reason = f"{reason}; environment changed since the baseline ({described})"
    return Comparison(config_name=candidate.config_name, verdict=verdict, reason=reason, metrics=comparisons,
                      decision=decision, environment_changes=changes, notes=notes, level=level)


def _overall(gating: Sequence[MetricComparison]) -> tuple[Verdict, str]:
    if not gating:
        raise StatisticsError("metrics.gate: no gating metric to decide on; name at least one metric in metrics.gate")
    by_verdict = {verdict: [m.reason for m in gating if m.verdict is verdict] for verdict in Verdict}
    if by_verdict[Verdict.INCONCLUSIVE]:
        return Verdict.INCONCLUSIVE, "; ".join(by_verdict[Verdict.INCONCLUSIVE])
    if by_verdict[Verdict.REGRESSED]:
        return Verdict.REGRESSED, "; ".join(by_verdict[Verdict.REGRESSED])
    if by_verdict[Verdict.IMPROVED]:
        return Verdict.IMPROVED, "; ".join(by_verdict[Verdict.IMPROVED] + by_verdict[Verdict.NO_CHANGE])
    return Verdict.NO_CHANGE, "; ".join(by_verdict[Verdict.NO_CHANGE])


# --- adaptive seed count ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InterimDecision:
    stop: bool
    reason: str  # e.g. "stopped after 5 seeds: accuracy regressed, p = 0.004, below the Pocock level 0.0294 (2 looks)"


def interim_decision(
    candidate: SweepResult,
    baseline: "Baseline",
    *,
    metrics: MetricsConfig,
    decision: DecisionConfig,
) -> InterimDecision:
    """First look of the two-look group-sequential design for `seeds: {min, max}`.

    Stops when a gating metric regressed at the Pocock level (2 equally spaced
    looks), or when every gating metric is decided: significant at that level,
    or futile (p > 0.3). Otherwise, including an inconclusive look and verdicts
    without a p-value (the band rule, identical candidate seeds), the sweep
    continues to the maximum.
    """
    level = stats.pocock_level(decision.alpha)
    n = len(candidate.scorecards)
    gating = [d for d in _compare_all(candidate, baseline, metrics, decision, level) if d.comparison.gating]
    if not gating:
        raise StatisticsError("metrics.gate: no gating metric to decide on; name at least one metric in metrics.gate")

    regressed = [d.comparison for d in gating if d.tested and d.comparison.verdict is Verdict.REGRESSED]
    if regressed:
        worst = regressed[0]
        return InterimDecision(stop=True, reason=(
            f"stopped after {n} seeds: {worst.metric} regressed, {_p_text('p', worst.p_adjusted)}, "
            f"below the Pocock level {level:.4f} ({POCOCK_LOOKS} looks)"
        ))
    open_metrics = []
    for draft in gating:
        metric = draft.comparison
        if not draft.tested:
            open_metrics.append(f"{metric.metric} ({metric.rule} rule cannot stop early)" if metric.rule == "band" else
                                f"{metric.metric} ({metric.verdict.value})")
        elif metric.verdict is Verdict.NO_CHANGE and level <= metric.p_adjusted <= stats.FUTILITY_P:
            open_metrics.append(f"{metric.metric} ({_p_text('p', metric.p_adjusted)})")
    if open_metrics:
        return InterimDecision(stop=False, reason=(
            f"continuing after {n} seeds: undecided at the Pocock level {level:.4f} and futility bound "
            f"p > {stats.FUTILITY_P:g}: {', '.join(open_metrics)}"
        ))
    if all(d.comparison.verdict is Verdict.NO_CHANGE and d.comparison.p_adjusted > stats.FUTILITY_P for d in gating):
        details = ", ".join(f"{d.comparison.metric} {_p_text('p', d.comparison.p_adjusted)}" for d in gating)
        return InterimDecision(stop=True, reason=(
            f"stopped after {n} seeds as futile: {details} > {stats.FUTILITY_P:g}, "
            f"so more seeds are unlikely to reach the Pocock level {level:.4f}"
        ))
    details = ", ".join(f"{d.comparison.metric} {d.comparison.verdict.value} ({_p_text('p', d.comparison.p_adjusted)})" for d in gating)
    return InterimDecision(stop=True, reason=(
        f"stopped after {n} seeds: every gating metric is decided at the Pocock level {level:.4f} "
        f"or futile (p > {stats.FUTILITY_P:g}): {details}"
    ))
