"""Statistics for comparing two small samples of seed scores. Pure functions.

Every function works on the "goodness" scale: callers negate metrics where
lower is better, so a negative delta is always a regression. Samples are 1-D
arrays of shape (n,), or, for the tests, stacks of shape (trials, n) that are
reduced along the last axis (the benchmark simulation uses that form).
Every function rejects empty or NaN input with StatisticsError.
Randomness only enters through an explicit `np.random.Generator` argument.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import integrate, optimize, stats

from seedbot.errors import StatisticsError

DEFAULT_POWER = 0.8
FUTILITY_P = 0.3  # interim look: a p-value above this stops the sweep as futile
DIVERGED_Z = -3.5  # modified z-score below which a seed counts as diverged
MIN_MANN_WHITNEY_SEEDS = 4  # at 3 vs 3 the smallest attainable two-sided p is 0.10
ZERO_STD = 1e-9  # a sample standard deviation at or below this (relative to |mean| >= 1) counts as zero
MAX_SEEDS_NEEDED = 10_000
_PERMUTATION_LIMIT = 50_000  # exact enumeration up to 9 vs 9 seeds: C(18, 9) = 48,620 splits


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one two-sample test on the goodness scale.

    `delta` is candidate minus baseline (means, or medians for Mann-Whitney),
    `ci` its interval at `confidence`, `se` the standard error used for the
    minimum detectable effect, `df` the t degrees of freedom. Fields are floats
    for 1-D input and arrays of shape (trials,) for stacked input.
    """

    rule: str
    delta: float | np.ndarray
    ci: tuple[float, float] | tuple[np.ndarray, np.ndarray]
    p_value: float | np.ndarray
    se: float | np.ndarray
    df: float | np.ndarray
    confidence: float
    notes: tuple[str, ...] = field(default=())


def check_scores(values: Sequence[float] | np.ndarray, name: str = "scores") -> np.ndarray:
    """Return `values` as a float array of shape (n,) or (trials, n); reject empty, NaN or infinite input."""
    array = np.asarray(values, dtype=float)
    if array.ndim not in (1, 2):
        raise StatisticsError(f"{name}: expected shape (n,) or (trials, n), got shape {array.shape}")
    if array.size == 0 or array.shape[-1] == 0:
        raise StatisticsError(f"{name}: no scores; at least one ok seed is needed")
    if not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise StatisticsError(
            f"{name}: {bad} score(s) are NaN or infinite; drop failed seeds before computing statistics"
        )
    return array


def _check_level(value: float, name: str) -> float:
    if not (isinstance(value, (int, float)) and 0.0 < float(value) < 1.0) or math.isnan(value):
        raise StatisticsError(f"{name}: must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def _check_at_least(array: np.ndarray, minimum: int, name: str) -> None:
    if array.shape[-1] < minimum:
        raise StatisticsError(f"{name}: needs at least {minimum} scores, got {array.shape[-1]}")


def _scalar(value: np.ndarray) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)


def interquartile_mean(scores: Sequence[float] | np.ndarray) -> float | np.ndarray:
    """Return the mean of the middle 50% of the scores: scipy.stats.trim_mean(x, 0.25) along the last axis."""
    array = check_scores(scores)
    return _scalar(stats.trim_mean(array, 0.25, axis=-1))


def is_degenerate(scores: Sequence[float] | np.ndarray) -> bool:
    """Tell whether a 1-D sample has zero spread: all scores equal, or std <= 1e-9 * max(1, |mean|)."""
    array = check_scores(scores)
    if array.ndim != 1:
        raise StatisticsError(f"scores: expected shape (n,), got shape {array.shape}")
    if np.ptp(array) == 0.0:
        return True
    if array.size < 2:
        return False
    return float(np.std(array, ddof=1)) <= ZERO_STD * max(1.0, abs(float(np.mean(array))))


def welch_test(candidate, baseline, *, confidence: float = 0.95) -> RuleResult:
    """Welch's two-sample t-test of candidate - baseline means (scipy.stats.ttest_ind, equal_var=False).

    delta = mean(c) - mean(b); se = sqrt(s_c^2/n + s_b^2/m); the degrees of
    freedom follow Welch-Satterthwaite and the interval is
    delta +/- t_{(1+confidence)/2, df} * se, from the result's
    confidence_interval(). Shapes: (n,) and (m,), or (trials, n) and (trials, m).
    """
    confidence = _check_level(confidence, "confidence")
    c = check_scores(candidate, "candidate")
    b = check_scores(baseline, "baseline")
    _check_at_least(c, 2, "candidate")
    _check_at_least(b, 2, "baseline")
    var_c = np.var(c, ddof=1, axis=-1)
    var_b = np.var(b, ddof=1, axis=-1)
    se = np.sqrt(var_c / c.shape[-1] + var_b / b.shape[-1])
    if np.any(se == 0.0):
        raise StatisticsError(
            "welch: both arms have zero variance, so the standard error is 0; check that the seed is applied"
        )
    result = stats.ttest_ind(c, b, equal_var=False, axis=-1)
    interval = result.confidence_interval(confidence_level=confidence)
    delta = np.mean(c, axis=-1) - np.mean(b, axis=-1)
    return RuleResult(
        rule="welch",
        delta=_scalar(delta),
        ci=(_scalar(interval.low), _scalar(interval.high)),
        p_value=_scalar(result.pvalue),
        se=_scalar(se),
        df=_scalar(result.df),
        confidence=confidence,
    )


def paired_test(candidate, baseline, *, confidence: float = 0.95) -> RuleResult:
    """Paired t-test on per-seed differences d = c - b (scipy.stats.ttest_rel).

    delta = mean(d); se = sd(d) / sqrt(n); df = n - 1; interval
    delta +/- t_{(1+confidence)/2, n-1} * se from confidence_interval().
    Both arms have the same shape, (n,) or (trials, n), with seeds aligned.
    When every difference is the same (up to 1e-9), the outcome is certain:
    p = 1 for d = 0, else p = 0, with the interval [d, d].
    """
    confidence = _check_level(confidence, "confidence")
    c = check_scores(candidate, "candidate")
    b = check_scores(baseline, "baseline")
    if c.shape != b.shape:
        raise StatisticsError(
            f"paired: candidate shape {c.shape} differs from baseline shape {b.shape}; pair the same seeds"
        )
    _check_at_least(c, 2, "paired")
    differences = c - b
    n = differences.shape[-1]
    delta = np.mean(differences, axis=-1)
    se = np.std(differences, ddof=1, axis=-1) / math.sqrt(n)
    # Differences equal up to rounding (std <= 1e-9 * max(1, |delta|)) make t infinite or 0/0.
    constant = se * math.sqrt(n) <= ZERO_STD * np.maximum(1.0, np.abs(delta))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        if np.any(constant):
            warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_rel(c, b, axis=-1)
        interval = result.confidence_interval(confidence_level=confidence)
    p_value = np.where(constant, np.where(np.abs(delta) <= ZERO_STD, 1.0, 0.0), result.pvalue)
    low = np.where(constant, delta, interval.low)
    high = np.where(constant, delta, interval.high)
    return RuleResult(
        rule="paired",
        delta=_scalar(delta),
        ci=(_scalar(low), _scalar(high)),
        p_value=_scalar(p_value),
        se=_scalar(np.where(constant, 0.0, se)),
        df=float(n - 1),
        confidence=confidence,
    )


def seed_correlation(candidate, baseline) -> float:
    """Pearson correlation of paired seed scores, shape (n,) each; nan when n < 3 or an arm is constant."""
    c = check_scores(candidate, "candidate")
    b = check_scores(baseline, "baseline")
    if c.shape != b.shape or c.ndim != 1:
        raise StatisticsError(f"seed correlation: expected two arrays of the same shape (n,), got {c.shape} and {b.shape}")
    if c.size < 3 or np.ptp(c) == 0.0 or np.ptp(b) == 0.0:
        return float("nan")
    return float(stats.pearsonr(c, b).statistic)


def band(baseline, k: float) -> tuple[float, float]:
    """Return the k-sigma band of the baseline, mean(b) -/+ k * sd(b) with ddof=1; shape (m,), m >= 2."""
    b = check_scores(baseline, "baseline")
    if b.ndim != 1:
        raise StatisticsError(f"baseline: expected shape (m,), got shape {b.shape}")
    _check_at_least(b, 2, "baseline")
    if not (k > 0 and math.isfinite(k)):
        raise StatisticsError(f"band_k: must be a positive number, got {k!r}")
    mean, sd = float(np.mean(b)), float(np.std(b, ddof=1))
    return (mean - k * sd, mean + k * sd)


def prediction_interval(baseline, *, confidence: float = 0.95) -> tuple[float, float]:
    """Return the interval that contains one new draw from the baseline's distribution with probability `confidence`.

    mean(b) -/+ t_{(1+confidence)/2, m-1} * sd(b) * sqrt(1 + 1/m), with sd
    ddof=1 and shape (m,), m >= 2; exact for normal scores. The verdict
    compares a candidate whose seeds all scored the same, one effective draw,
    with it.
    """
    confidence = _check_level(confidence, "confidence")
    b = check_scores(baseline, "baseline")
    if b.ndim != 1:
        raise StatisticsError(f"baseline: expected shape (m,), got shape {b.shape}")
    _check_at_least(b, 2, "baseline")
    m = b.size
    mean, sd = float(np.mean(b)), float(np.std(b, ddof=1))
    half_width = float(stats.t.ppf((1 + confidence) / 2, m - 1)) * sd * math.sqrt(1 + 1 / m)
    return (mean - half_width, mean + half_width)


def band_test(candidate, baseline, *, k: float) -> np.ndarray | int:
    """Apply the k-sigma rule: -1 when mean(c) < mean(b) - k*sd(b), +1 when above mean(b) + k*sd(b), else 0.

    Shapes (n,) and (m,) give an int; (trials, n) and (trials, m) give an
    array of shape (trials,). The rule has no p-value, and its false-alarm
    rate depends on n and m (see band_false_alarm_rate).
    """
    c = check_scores(candidate, "candidate")
    b = check_scores(baseline, "baseline")
    _check_at_least(b, 2, "baseline")
    if not (k > 0 and math.isfinite(k)):
        raise StatisticsError(f"band_k: must be a positive number, got {k!r}")
    difference = np.mean(c, axis=-1) - np.mean(b, axis=-1)
    width = k * np.std(b, ddof=1, axis=-1)
    outcome = np.where(difference < -width, -1, np.where(difference > width, 1, 0))
    return int(outcome) if outcome.ndim == 0 else outcome


def band_false_alarm_rate(n_candidate: int, n_baseline: int, k: float, *, two_sided: bool = False) -> float:
    """Compute the probability that the k-sigma rule fires when nothing changed, for normal seed scores.

    With D = mean(c) - mean(b) ~ N(0, sigma^2 (1/n + 1/m)) independent of
    s_b^2 ~ sigma^2 chi2_{m-1} / (m-1), the ratio D / (s_b sqrt(1/n + 1/m))
    is Student t with m - 1 df, so P(D < -k s_b) = t_{m-1}.sf(k / sqrt(1/n + 1/m)).
    The two-sided rate (an alarm in either direction) is twice that.
    At k = 1.5 and n = m this gives 20.8% (n=3), 7.7% (n=5), 0.85% (n=10) two-sided.
    """
    if n_candidate < 1 or n_baseline < 2:
        raise StatisticsError(
            f"band false-alarm rate: needs n_candidate >= 1 and n_baseline >= 2, got {n_candidate} and {n_baseline}"
        )
    if not (k > 0 and math.isfinite(k)):
        raise StatisticsError(f"band_k: must be a positive number, got {k!r}")
    threshold = k / math.sqrt(1.0 / n_candidate + 1.0 / n_baseline)
    one_sided = float(stats.t.sf(threshold, n_baseline - 1))
    return 2.0 * one_sided if two_sided else one_sided


def _has_ties(c: np.ndarray, b: np.ndarray) -> bool:
    pooled = np.concatenate([c, b])
    return np.unique(pooled).size < pooled.size


def mann_whitney_test(candidate, baseline, *, confidence: float = 0.95, rng: np.random.Generator | None = None) -> RuleResult:
    """Exact two-sided Mann-Whitney U test, delta on medians (scipy.stats.mannwhitneyu).

    p-value: method="exact" without ties; with ties, a permutation test
    (scipy.stats.PermutationMethod) that enumerates every split up to
    C(n+m, n) <= 50,000 and otherwise samples 50,000 with `rng` (required then).
    delta = median(c) - median(b). Interval: Hodges-Lehmann, found by inverting
    the exact test over the sorted pairwise differences c_i - b_j. Stacked input
    of shape (trials, n) gets only the exact p-value, with nan bounds and no ties handling.
    Rejects fewer than 4 seeds per arm because at 3 vs 3 the smallest attainable
    two-sided p-value is 2 / C(6, 3) = 0.10.
    """
    confidence = _check_level(confidence, "confidence")
    c = check_scores(candidate, "candidate")
    b = check_scores(baseline, "baseline")
    for name, array in (("candidate", c), ("baseline", b)):
        if array.shape[-1] < MIN_MANN_WHITNEY_SEEDS:
            raise StatisticsError(
                f"mann-whitney: {name} has {array.shape[-1]} seeds, needs at least {MIN_MANN_WHITNEY_SEEDS} per arm "
                "because at 3 vs 3 seeds the smallest attainable two-sided p-value is 0.10, so it can never "
                "reject at alpha 0.05; run more seeds or use rule welch"
            )
    delta = np.median(c, axis=-1) - np.median(b, axis=-1)
    if c.ndim == 2:
        result = stats.mannwhitneyu(c, b, alternative="two-sided", method="exact", axis=-1)
        nan = np.full(delta.shape, np.nan)
        return RuleResult("mann-whitney", delta, (nan, nan), result.pvalue, nan, nan, confidence)

    notes: tuple[str, ...] = ()
    method: str | stats.PermutationMethod = "exact"
    if _has_ties(c, b):
        splits = math.comb(c.size + b.size, c.size)
        if splits > _PERMUTATION_LIMIT and rng is None:
            raise StatisticsError(
                f"mann-whitney: tied scores with {splits} possible splits need sampled permutations; pass rng"
            )
        method = stats.PermutationMethod(n_resamples=_PERMUTATION_LIMIT, rng=rng)
        notes = ("tied scores: p-value from the permutation distribution",)
    result = stats.mannwhitneyu(c, b, alternative="two-sided", method=method)
    low, high = _hodges_lehmann_interval(c, b, 1.0 - confidence)
    return RuleResult("mann-whitney", float(delta), (low, high), float(result.pvalue), float("nan"), float("nan"), confidence, notes)


def _hodges_lehmann_interval(c: np.ndarray, b: np.ndarray, alpha: float) -> tuple[float, float]:
    # The shifts d that the exact test at level alpha does not reject form an
    # interval bounded by two pairwise differences. The p-value only changes at
    # those differences, so testing the midpoints between them finds the bounds.
    differences = np.unique(np.subtract.outer(c, b).ravel())
    probes = np.concatenate([[differences[0] - 1.0], (differences[:-1] + differences[1:]) / 2, [differences[-1] + 1.0]])
    p_values = stats.mannwhitneyu(c[None, :] - probes[:, None], np.broadcast_to(b, (probes.size, b.size)),
                                  alternative="two-sided", method="exact", axis=-1).pvalue
    accepted = np.flatnonzero(p_values >= alpha)
    if accepted.size == 0:
        return (float("nan"), float("nan"))
    # Probe i lies between differences[i-1] and differences[i].
    low_index, high_index = accepted[0], accepted[-1]
    low = differences[low_index - 1] if low_index > 0 else -math.inf
    high = differences[high_index] if high_index < differences.size else math.inf
    return (float(low), float(high))


def probability_of_superiority(candidate, baseline) -> float:
    """Return P(a candidate seed beats a baseline seed) = U_c / (n * m), ties counting one half.

    U_c is scipy.stats.mannwhitneyu(c, b).statistic; shapes (n,) and (m,).
    """
    c = check_scores(candidate, "candidate")
    b = check_scores(baseline, "baseline")
    statistic = stats.mannwhitneyu(c, b, alternative="two-sided", method="asymptotic", axis=-1).statistic
    return _scalar(statistic / (c.shape[-1] * b.shape[-1]))


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Adjust p-values with Holm-Bonferroni's step-down method: shape (k,) in, shape (k,) out, same order.

    Sorting p ascending, p_adj_(i) = max_{j <= i} min(1, (k - j + 1) * p_(j));
    rejecting p_adj < alpha controls the family-wise error rate at alpha.
    """
    p = check_scores(p_values, "p_values")
    if p.ndim != 1:
        raise StatisticsError(f"p_values: expected shape (k,), got shape {p.shape}")
    if np.any((p < 0) | (p > 1)):
        raise StatisticsError(f"p_values: must lie in [0, 1], got {p.tolist()}")
    k = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (k - np.arange(k)) * p[order])
    adjusted = np.empty(k)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def minimum_detectable_effect(se: float, df: float, *, alpha: float = 0.05, power: float = DEFAULT_POWER) -> float:
    """Return the smallest true delta a two-sided t-test detects with `power`: (t_{1-alpha/2, df} + t_{power, df}) * se."""
    alpha = _check_level(alpha, "alpha")
    power = _check_level(power, "power")
    if not (math.isfinite(se) and se >= 0):
        raise StatisticsError(f"se: must be a finite number >= 0, got {se!r}")
    if not (math.isfinite(df) and df > 0):
        raise StatisticsError(f"df: must be a finite number > 0, got {df!r}")
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se)


def seeds_needed(
    sigma: float, min_effect: float, *, alpha: float = 0.05, power: float = DEFAULT_POWER, paired: bool = False
) -> int | None:
    """Find the seeds per arm a two-sided t-test needs to detect `min_effect` with `power`; None when min_effect == 0.

    Power is exact under normal scores, from the noncentral t distribution
    (scipy.stats.nct): unpaired df = 2n - 2, noncentrality min_effect / (sigma sqrt(2/n));
    paired (sigma of the differences) df = n - 1, noncentrality min_effect / (sigma / sqrt(n)).
    Returns None also when more than 10,000 seeds would be needed.
    """
    alpha = _check_level(alpha, "alpha")
    power = _check_level(power, "power")
    for name, value in (("sigma", sigma), ("min_effect", min_effect)):
        if not (math.isfinite(value) and value >= 0):
            raise StatisticsError(f"{name}: must be a finite number >= 0, got {value!r}")
    if min_effect == 0:
        return None
    if sigma == 0:
        return 2
    n = np.arange(2, MAX_SEEDS_NEEDED + 1, dtype=float)
    if paired:
        df, noncentrality = n - 1, min_effect / (sigma / np.sqrt(n))
    else:
        df, noncentrality = 2 * n - 2, min_effect / (sigma * np.sqrt(2 / n))
    critical = stats.t.ppf(1 - alpha / 2, df)
    achieved = stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality)
    enough = np.flatnonzero(achieved >= power)
    return int(n[enough[0]]) if enough.size else None


def diverged_mask(scores, *, threshold: float = DIVERGED_Z) -> np.ndarray:
    """Flag seeds far below the median: modified z-score 0.6745 (x - median) / MAD < threshold.

    Iglewicz and Hoaglin's robust outlier test, one-sided because a diverged
    run scores low on the goodness scale. When the MAD is 0 (most seeds tied),
    the mean absolute deviation times 1.2533 replaces MAD / 0.6745. Shape (n,) in,
    boolean shape (n,) out; fewer than 3 scores flag nothing.
    """
    x = check_scores(scores)
    if x.ndim != 1:
        raise StatisticsError(f"scores: expected shape (n,), got shape {x.shape}")
    if x.size < 3:
        return np.zeros(x.size, dtype=bool)
    median = np.median(x)
    scale = stats.median_abs_deviation(x, scale="normal")
    if scale == 0:
        scale = 1.2533 * float(np.mean(np.abs(x - median)))
    if scale == 0:
        return np.zeros(x.size, dtype=bool)
    return (x - median) / scale < threshold


def pocock_level(alpha: float = 0.05, *, information_fraction: float = 0.5) -> float:
    """Compute the nominal two-sided level for each of two looks of a Pocock group-sequential design.

    Finds c with P(|Z1| > c or |Z2| > c) = alpha for standard normal Z1, Z2 of
    correlation rho = sqrt(information_fraction) (n1 / n2 seeds at the first look),
    integrating P(|Z2| <= c | Z1 = z) over z with scipy.integrate.quad and solving
    with brentq; returns 2 * (1 - Phi(c)). alpha = 0.05 with equally spaced
    looks gives c = 2.178 and level 0.0294.
    """
    alpha = _check_level(alpha, "alpha")
    information_fraction = _check_level(information_fraction, "information_fraction")
    rho = math.sqrt(information_fraction)
    spread = math.sqrt(1 - rho * rho)

    def no_rejection(c: float) -> float:
        inner = lambda z: stats.norm.pdf(z) * (
            stats.norm.cdf((c - rho * z) / spread) - stats.norm.cdf((-c - rho * z) / spread)
        )
        return integrate.quad(inner, -c, c, epsabs=1e-12)[0]

    critical = optimize.brentq(lambda c: (1 - no_rejection(c)) - alpha, stats.norm.isf(alpha / 2), stats.norm.isf(alpha / 4), xtol=1e-10)
    return float(2 * stats.norm.sf(critical))


def classify(delta, p_value, *, level: float, min_effect: float = 0.0):
    """Turn a test into -1 (regressed), +1 (improved) or 0 (no change) on the goodness scale.

    Significant when p < level, and the delta must also reach the practical
    margin |delta| >= min_effect. For a two-sided t-test, p < level is the same
    as the (1 - level) interval excluding zero. Scalars or arrays of shape (trials,).
    """
    delta = np.asarray(delta, dtype=float)
    p_value = np.asarray(p_value, dtype=float)
    if np.any(np.isnan(delta)) or np.any(np.isnan(p_value)):
        raise StatisticsError("classify: delta and p_value must not be NaN")
    significant = (p_value < level) & (np.abs(delta) >= min_effect) & (delta != 0)
    outcome = np.where(significant, np.sign(delta), 0).astype(int)
    return int(outcome) if outcome.ndim == 0 else outcome
