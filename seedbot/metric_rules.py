"""Apply the configured rule to one metric: the two-sample test, the band rule or the zero-variance fallback."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np

from seedbot import formatting, stats
from seedbot.arms import _choose_rule, _Sample, _select_arms
from seedbot.comparison import MetricComparison, Verdict
from seedbot.config import DecisionConfig, Direction
from seedbot.errors import StatisticsError


WEAK_PAIRING_CORRELATION = 0.2  # below this |rho|, pairing loses degrees of freedom for little gain
ZERO_VARIANCE_REASON = "all seeds scored the same — is the seed applied?"
# The rule recorded when every candidate seed scored the same and the baseline's
# prediction interval decided instead of the configured test.
PREDICTION_RULE = "prediction-interval"


@dataclass
class _Draft:
    """A metric comparison before the Holm correction across gating metrics."""

    comparison: MetricComparison
    goodness_delta: float | None = None  # candidate - baseline on the goodness scale
    tested: bool = False  # a p-value decides the verdict (not band, not inconclusive)


def _format(value: float) -> str:
    return f"{value:.4g}"


def _p_text(label: str, p_value: float) -> str:
    """Format "p = 0.0123" or "p < 0.001", as the comment's table does."""
    text = formatting.format_p_value(p_value)
    return f"{label} {text}" if text.startswith("<") else f"{label} = {text}"


def _inconclusive(fields: dict[str, Any], reason: str) -> _Draft:
    return _Draft(MetricComparison(**fields, verdict=Verdict.INCONCLUSIVE, reason=reason))


def _compare_metric(
    metric: str,
    *,
    gating: bool,
    direction: Direction,
    candidate: _Sample,
    pooled: _Sample,
    latest: _Sample,
    decision: DecisionConfig,
    level: float,
) -> _Draft:
    sign = 1.0 if direction == "higher" else -1.0
    rule = _choose_rule(decision.rule, candidate, latest)
    arms = _select_arms(rule, sign, candidate, pooled, latest, decision.exclude_diverged)
    cand, base = arms.candidate_used, arms.baseline_used

    fields: dict[str, Any] = dict(
        metric=metric, direction=direction, gating=gating, rule=rule,
        candidate=arms.candidate, baseline=arms.baseline, notes=arms.notes,
    )
    fields.update(_band_and_delta(rule, sign, cand, base, decision.band_k))
    minimum = max(decision.min_seeds, 2)
    for arm, summary, total, used in (("candidate", arms.candidate, arms.candidate_total, cand),
                                      ("baseline", arms.baseline, arms.baseline_total, base)):
        if used.size < minimum:
            left_out = f", {len(summary.excluded)} left out" if summary.excluded else ""
            return _inconclusive(fields, (
                f"{metric}: only {used.size} of {total} {arm} seeds are usable "
                f"({summary.n_failed} failed or without a score{left_out}); at least {minimum} are needed"
            ))
    if stats.is_degenerate(cand) or stats.is_degenerate(base):
        return _compare_zero_variance(metric, fields, sign, cand, base, level=level, min_effect=decision.min_effect)

    confidence = 1.0 - level
    welch = stats.welch_test(cand, base, confidence=confidence)
    if rule == "paired":
        result = stats.paired_test(cand, base, confidence=confidence)
        rho = stats.seed_correlation(cand, base)
        if not math.isnan(rho) and abs(rho) < WEAK_PAIRING_CORRELATION:
            fields["notes"] += (f"seed correlation between arms is {rho:.2f}, near zero, so pairing costs power; rule welch may detect more",)
        sigma = float(np.std(cand - base, ddof=1))
    elif rule == "mann-whitney":
        try:
            # A fixed generator keeps the verdict reproducible when tied scores need sampled permutations.
            result = stats.mann_whitney_test(cand, base, confidence=confidence, rng=np.random.default_rng(0))
        except StatisticsError as error:
            return _inconclusive(fields, f"{metric}: {error}")
        fields["notes"] += result.notes + ("interval: Hodges-Lehmann shift; MDE from the t-test on the same seeds",)
        sigma = _pooled_sigma(cand, base)
    else:
        result = welch
        sigma = _pooled_sigma(cand, base)

    se, df = (welch.se, welch.df) if rule in ("band", "mann-whitney") else (result.se, result.df)
    fields.update(
        delta=sign * result.delta,
        ci=tuple(sorted((sign * result.ci[0], sign * result.ci[1]))),
        p_value=result.p_value,
        band=stats.band(sign * base, decision.band_k),
        mde=stats.minimum_detectable_effect(se, df, alpha=level) if se > 0 else 0.0,
        seeds_needed=stats.seeds_needed(sigma, decision.min_effect, alpha=level, paired=rule == "paired"),
        prob_superiority=stats.probability_of_superiority(cand, base),
    )

    if rule == "band":
        outcome = stats.band_test(cand, base, k=decision.band_k)
        if outcome != 0 and abs(result.delta) < decision.min_effect:
            outcome = 0
        one_sided = stats.band_false_alarm_rate(cand.size, base.size, decision.band_k)
        fields["notes"] += (
            f"band rule (k = {decision.band_k:g}) with {cand.size} vs {base.size} seeds raises a false regression alarm "
            f"on {one_sided:.1%} of unchanged candidates ({2 * one_sided:.1%} counting either direction); "
            "p-value and interval are Welch's, for reference",
        )
        verdict = {-1: Verdict.REGRESSED, 1: Verdict.IMPROVED, 0: Verdict.NO_CHANGE}[outcome]
        reason = _band_reason(metric, verdict, fields, decision.band_k)
        return _Draft(MetricComparison(**fields, verdict=verdict, reason=reason), result.delta, tested=False)

    draft = _Draft(MetricComparison(**fields, verdict=Verdict.NO_CHANGE, reason=""), result.delta, tested=True)
    return _decide(draft, p_used=result.p_value, level=level, min_effect=decision.min_effect)


def _band_and_delta(rule: str, sign: float, cand: np.ndarray, base: np.ndarray, k: float) -> dict[str, Any]:
    """Return the band and delta in metric units, filled even when no test can run, so the comment shows them."""
    if base.size < 2:
        return {}
    filled: dict[str, Any] = {"band": stats.band(sign * base, k)}
    if cand.size:
        center = np.median if rule == "mann-whitney" else np.mean
        filled["delta"] = sign * float(center(cand) - center(base))
    return filled


def _compare_zero_variance(
    metric: str,
    fields: dict[str, Any],
    sign: float,
    cand: np.ndarray,
    base: np.ndarray,
    *,
    level: float,
    min_effect: float,
) -> _Draft:
    """Decide a metric where an arm's seeds all scored the same, so no two-sample test applies.

    A t-test on zero variance would turn any tiny delta into a regression. When
    only the candidate is constant, it counts as one effective draw and regresses
    only when it falls outside the baseline's (1 - level) prediction interval on
    the worse side and |delta| >= min_effect. It never counts as improved or
    unchanged. A constant baseline is broken, so that metric stays inconclusive.
    """
    candidate_flat, baseline_flat = stats.is_degenerate(cand), stats.is_degenerate(base)
    candidate_value, baseline_value = _format(sign * cand[0]), _format(sign * base[0])
    if baseline_flat and candidate_flat:
        return _inconclusive(fields, (
            f"{metric}: {ZERO_VARIANCE_REASON} (every candidate seed scored {candidate_value}, "
            f"every baseline seed {baseline_value})"
        ))
    if baseline_flat:
        return _inconclusive(fields, (
            f"{metric}: the baseline's seeds all scored the same ({baseline_value}) — is the seed applied? "
            "Save a new baseline from a sweep whose seeds vary"
        ))

    low, high = stats.prediction_interval(base, confidence=1.0 - level)
    shown_low, shown_high = sorted((sign * low, sign * high))
    confidence = f"{1 - level:.1%}".replace(".0%", "%")
    interval = f"the baseline's {confidence} prediction interval [{_format(shown_low)}, {_format(shown_high)}] for one new seed"
    goodness_delta = float(cand[0] - np.mean(base))
    fields = {**fields, "rule": PREDICTION_RULE, "delta": sign * goodness_delta}
    fields["notes"] += (f"every candidate seed scored {candidate_value}, so the candidate counts as one seed, "
                        f"compared with {interval}",)
    if cand[0] < low and goodness_delta != 0 and abs(goodness_delta) >= min_effect:
        reason = (f"{metric} regressed by {_format(abs(goodness_delta))}: every candidate seed scored {candidate_value}, "
                  f"worse than {interval}; all candidate seeds scored the same — is the seed applied?")
        return _Draft(MetricComparison(**fields, verdict=Verdict.REGRESSED, reason=reason), goodness_delta, tested=False)
    return _inconclusive(fields, f"{metric}: {ZERO_VARIANCE_REASON} (every candidate seed scored {candidate_value})")


def _pooled_sigma(candidate: np.ndarray, baseline: np.ndarray) -> float:
    return math.sqrt((np.var(candidate, ddof=1) + np.var(baseline, ddof=1)) / 2)


def _decide(draft: _Draft, *, p_used: float, level: float, min_effect: float) -> _Draft:
    """Set the verdict and reason of a tested metric from p (Holm-adjusted for gating metrics)."""
    metric = draft.comparison
    outcome = stats.classify(draft.goodness_delta, p_used, level=level, min_effect=min_effect)
    verdict = {-1: Verdict.REGRESSED, 1: Verdict.IMPROVED, 0: Verdict.NO_CHANGE}[outcome]
    low, high = metric.ci
    confidence = f"{1 - level:.1%}".replace(".0%", "%")
    evidence = f"delta {_format(metric.delta)}, {confidence} CI [{_format(low)}, {_format(high)}], {_p_text('p', metric.p_value)}"
    if metric.p_adjusted is not None and metric.p_adjusted != metric.p_value:
        evidence += f", {_p_text('Holm p', metric.p_adjusted)}"
    if verdict is not Verdict.NO_CHANGE:
        reason = f"{metric.metric} {verdict.value} by {_format(abs(metric.delta))} ({evidence}, {metric.rule})"
    elif p_used < level and draft.goodness_delta != 0:
        reason = (f"{metric.metric}: significant but below the practical margin min_effect = {_format(min_effect)} "
                  f"({evidence}, {metric.rule})")
    else:
        reason = f"{metric.metric}: no significant difference ({evidence}, {metric.rule})"
        if metric.mde is not None and math.isfinite(metric.mde) and metric.mde > 0:
            reason = (f"{metric.metric}: no significant difference; a true change smaller than ±{_format(metric.mde)} "
                      f"could go undetected (MDE at 80% power; {evidence}, {metric.rule})")
    draft.comparison = replace(metric, verdict=verdict, reason=reason)
    return draft


def _band_reason(metric: str, verdict: Verdict, fields: Mapping[str, Any], k: float) -> str:
    low, high = fields["band"]
    mean = fields["candidate"].mean
    where = "inside" if verdict is Verdict.NO_CHANGE else "outside"
    return f"{metric}: candidate mean {_format(mean)} is {where} the baseline band [{_format(low)}, {_format(high)}] (mean ± {k:g}σ, band rule)"
