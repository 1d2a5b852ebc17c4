"""Compare a candidate sweep with a baseline and decide the verdict. Pure: no I/O.

The tests themselves are in `seedbot.stats`. This module picks the rule,
checks seed health (failed, diverged and identical seeds), corrects several
gating metrics with Holm-Bonferroni, and turns the tests into verdicts with
a reason a reviewer can read. Every test runs on the "goodness" scale (scores
negated where lower is better), and deltas and intervals are reported back
in metric units.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from seedbot import formatting, provenance, stats
from seedbot.config import DecisionConfig, Direction, MetricsConfig
from seedbot.errors import StatisticsError
from seedbot.scorecard import Scorecard, SweepResult

if TYPE_CHECKING:
    from seedbot.baseline import Baseline

POCOCK_LOOKS = 2
WEAK_PAIRING_CORRELATION = 0.2  # below this |rho|, pairing loses degrees of freedom for little gain
ZERO_VARIANCE_REASON = "all seeds scored the same — is the seed applied?"
# The rule recorded when every candidate seed scored the same and the baseline's
# prediction interval decided instead of the configured test.
PREDICTION_RULE = "prediction-interval"
# A seed whose accuracy is within this of the always-majority-class accuracy
# learned nothing beyond the class prior, so it counts as diverged.
MAJORITY_MARGIN = 0.01


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


# --- collecting the arms -------------------------------------------------------------


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


# --- one metric ---------------------------------------------------------------------


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

    The planned list is `candidate.extra["seeds"]` (the sweep records it); seeds
    left out by an adaptive early stop are not missing.
    """
    failed = [card.seed for card in candidate.failed]
    ran = {card.seed for card in candidate.scorecards}
    planned = candidate.extra.get("seeds", []) if candidate.extra else []
    missing = [seed for seed in planned if seed not in ran] if candidate.stop_reason is None else []
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
