"""Unit tests of seedbot.stats on scores small enough to check by hand, cross-checked against scipy.stats."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from seedbot import stats
from seedbot.errors import StatisticsError

# --- input checks -------------------------------------------------------------------

ONE_SAMPLE = {
    "check_scores": lambda x: stats.check_scores(x),
    "interquartile_mean": lambda x: stats.interquartile_mean(x),
    "is_degenerate": lambda x: stats.is_degenerate(x),
    "diverged_mask": lambda x: stats.diverged_mask(x),
    "band": lambda x: stats.band(x, 1.5),
    "prediction_interval": lambda x: stats.prediction_interval(x),
    "holm_adjust": lambda x: stats.holm_adjust(x),
}
TWO_SAMPLE = {
    "welch_test": lambda c, b: stats.welch_test(c, b),
    "paired_test": lambda c, b: stats.paired_test(c, b),
    "seed_correlation": lambda c, b: stats.seed_correlation(c, b),
    "band_test": lambda c, b: stats.band_test(c, b, k=1.5),
    "mann_whitney_test": lambda c, b: stats.mann_whitney_test(c, b),
    "probability_of_superiority": lambda c, b: stats.probability_of_superiority(c, b),
}
GOOD = [0.91, 0.93, 0.92, 0.94, 0.95]


@pytest.mark.parametrize("name", sorted(ONE_SAMPLE))
def test_one_sample_rejects_empty(name):
    with pytest.raises(StatisticsError, match="no scores"):
        ONE_SAMPLE[name]([])


@pytest.mark.parametrize("name", sorted(TWO_SAMPLE))
@pytest.mark.parametrize("empty_arm", ["candidate", "baseline"])
def test_two_sample_rejects_empty(name, empty_arm):
    arms = {"candidate": GOOD, "baseline": GOOD, empty_arm: []}
    with pytest.raises(StatisticsError, match=f"{empty_arm}: no scores"):
        TWO_SAMPLE[name](arms["candidate"], arms["baseline"])


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(ONE_SAMPLE)),
    scores=st.lists(st.floats(0, 1), min_size=4, max_size=8),
    position=st.integers(0, 7),
    bad=st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_one_sample_rejects_nan(name, scores, position, bad):
    scores[position % len(scores)] = bad
    with pytest.raises(StatisticsError, match="NaN or infinite"):
        ONE_SAMPLE[name](scores)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(TWO_SAMPLE)),
    candidate=st.lists(st.floats(0, 1), min_size=4, max_size=6),
    baseline=st.lists(st.floats(0, 1), min_size=4, max_size=6),
    nan_in_candidate=st.booleans(),
)
def test_two_sample_rejects_nan(name, candidate, baseline, nan_in_candidate):
    target = candidate if nan_in_candidate else baseline
    target[0] = math.nan
    with pytest.raises(StatisticsError, match="NaN or infinite"):
        TWO_SAMPLE[name](candidate, baseline[: len(candidate)] if name in ("paired_test", "seed_correlation") else baseline)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: stats.minimum_detectable_effect(math.nan, 4), "se: must be a finite number"),
        (lambda: stats.minimum_detectable_effect(0.01, math.nan), "df: must be a finite number"),
        (lambda: stats.seeds_needed(math.nan, 0.02), "sigma: must be a finite number"),
        (lambda: stats.seeds_needed(0.015, math.nan), "min_effect: must be a finite number"),
        (lambda: stats.pocock_level(math.nan), "alpha: must be a number strictly between 0 and 1"),
        (lambda: stats.classify(math.nan, 0.01, level=0.05), "must not be NaN"),
        (lambda: stats.welch_test(GOOD, GOOD, confidence=1.5), "confidence: must be a number strictly between"),
        (lambda: stats.paired_test(GOOD, GOOD[:4]), "pair the same seeds"),
        (lambda: stats.holm_adjust([]), "p_values: no scores"),
        (lambda: stats.holm_adjust([0.2, 1.5]), r"must lie in \[0, 1\]"),
        (lambda: stats.band([0.9, 0.91], -1), "band_k: must be a positive number"),
        (lambda: stats.prediction_interval([0.9]), "baseline: needs at least 2 scores"),
        (lambda: stats.prediction_interval(GOOD, confidence=1.0), "confidence: must be a number strictly between"),
        (lambda: stats.welch_test([0.9, 0.9], [0.8, 0.8]), "both arms have zero variance"),
        (lambda: stats.welch_test([0.9], GOOD), "candidate: needs at least 2 scores"),
        (lambda: stats.check_scores(np.zeros((2, 2, 2))), r"expected shape \(n,\) or \(trials, n\)"),
    ],
)
def test_invalid_input_raises(call, match):
    with pytest.raises(StatisticsError, match=match):
        call()


# --- the tests, on hand-computable scores ------------------------------------------


def test_welch_hand_computed():
    # delta = 2 - 5 = -3; se = sqrt(1/3 + 1/3); df = 4 because the variances are equal.
    result = stats.welch_test([1, 2, 3], [4, 5, 6])
    se = math.sqrt(2 / 3)
    half_width = scipy_stats.t.ppf(0.975, 4) * se
    assert result.delta == pytest.approx(-3.0)
    assert result.se == pytest.approx(se)
    assert result.df == pytest.approx(4.0)
    assert result.ci == pytest.approx((-3 - half_width, -3 + half_width))
    assert result.p_value == pytest.approx(2 * scipy_stats.t.sf(3 / se, 4))


def test_welch_matches_scipy_unequal_variance():
    candidate, baseline = [0.91, 0.90, 0.92, 0.905, 0.915], [0.93, 0.95, 0.94, 0.96, 0.935, 0.99]
    result = stats.welch_test(candidate, baseline, confidence=0.9)
    reference = scipy_stats.ttest_ind(candidate, baseline, equal_var=False)
    interval = reference.confidence_interval(0.9)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.df == pytest.approx(reference.df)
    assert result.ci == pytest.approx((interval.low, interval.high))


def test_paired_hand_computed():
    # d = [1, 2, 3]: mean 2, sd 1, se 1/sqrt(3), t = 2 sqrt(3), df 2.
    result = stats.paired_test([2, 4, 6], [1, 2, 3])
    se = 1 / math.sqrt(3)
    half_width = scipy_stats.t.ppf(0.975, 2) * se
    assert result.delta == pytest.approx(2.0)
    assert result.se == pytest.approx(se)
    assert result.df == 2.0
    assert result.ci == pytest.approx((2 - half_width, 2 + half_width))
    assert result.p_value == pytest.approx(scipy_stats.ttest_rel([2, 4, 6], [1, 2, 3]).pvalue)


@pytest.mark.parametrize(("shift", "p_value"), [(0.0, 1.0), (0.01, 0.0), (-0.01, 0.0)])
def test_paired_constant_differences(shift, p_value):
    baseline = np.array([0.90, 0.92, 0.94])
    result = stats.paired_test(baseline + shift, baseline)
    assert result.p_value == p_value
    assert result.ci == pytest.approx((shift, shift))


def test_stacked_input_matches_rows():
    rng = np.random.default_rng(7)
    candidate, baseline = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    stacked = stats.welch_test(candidate, baseline)
    for row in range(4):
        single = stats.welch_test(candidate[row], baseline[row])
        assert stacked.p_value[row] == pytest.approx(single.p_value)
        assert stacked.ci[0][row] == pytest.approx(single.ci[0])


def test_band_hand_computed():
    assert stats.band([1, 2, 3], 1.5) == pytest.approx((0.5, 3.5))


@pytest.mark.parametrize(("candidate", "expected"), [([0.0, 0.2], -1), ([2.0, 2.5], 0), ([3.6, 3.7], 1)])
def test_band_test_sides(candidate, expected):
    assert stats.band_test(candidate, [1, 2, 3], k=1.5) == expected


@pytest.mark.parametrize(("n", "expected"), [(3, 0.208), (5, 0.0767), (10, 0.0085)])
def test_band_false_alarm_rate_table(n, expected):
    assert stats.band_false_alarm_rate(n, n, 1.5, two_sided=True) == pytest.approx(expected, abs=5e-4)


def test_prediction_interval_hand_computed():
    # mean 3, sd sqrt(2.5), t(0.975, 4) = 2.77645: half width 2.77645 * 1.58114 * sqrt(1.2) = 4.80894
    low, high = stats.prediction_interval([1, 2, 3, 4, 5], confidence=0.95)
    assert low == pytest.approx(3 - 4.80894, abs=1e-4)
    assert high == pytest.approx(3 + 4.80894, abs=1e-4)


def test_prediction_interval_covers_new_draws():
    rng = np.random.default_rng(5)
    trials = 20_000
    baselines, new_draws = rng.normal(size=(trials, 5)), rng.normal(size=trials)
    intervals = np.array([stats.prediction_interval(row, confidence=0.9) for row in baselines])
    covered = np.mean((intervals[:, 0] <= new_draws) & (new_draws <= intervals[:, 1]))
    assert covered == pytest.approx(0.9, abs=4 * math.sqrt(0.9 * 0.1 / trials))


def test_band_false_alarm_rate_matches_simulation():
    rng = np.random.default_rng(11)
    trials = 40_000
    candidate, baseline = rng.normal(size=(trials, 5)), rng.normal(size=(trials, 4))
    simulated = np.mean(stats.band_test(candidate, baseline, k=1.5) == -1)
    standard_error = math.sqrt(0.1 * 0.9 / trials)
    assert simulated == pytest.approx(stats.band_false_alarm_rate(5, 4, 1.5), abs=4 * standard_error)


def test_mann_whitney_rejects_three_seeds():
    with pytest.raises(StatisticsError, match="smallest attainable two-sided p-value is 0.10"):
        stats.mann_whitney_test([1, 2, 3], [4, 5, 6, 7])


def test_mann_whitney_separated_arms():
    # Fully separated 4 vs 4: two of the C(8, 4) = 70 splits are as extreme.
    result = stats.mann_whitney_test([1, 2, 3, 4], [5, 6, 7, 8])
    assert result.p_value == pytest.approx(2 / 70)
    assert result.delta == pytest.approx(-4.0)
    assert result.ci[0] <= -4.0 <= result.ci[1]
    assert result.ci[1] < 0


def test_mann_whitney_matches_scipy_exact():
    candidate, baseline = [0.91, 0.95, 0.97, 0.92, 0.99], [0.93, 0.94, 0.96, 0.98]
    result = stats.mann_whitney_test(candidate, baseline)
    assert result.p_value == pytest.approx(scipy_stats.mannwhitneyu(candidate, baseline, method="exact").pvalue)
    assert result.delta == pytest.approx(np.median(candidate) - np.median(baseline))


def test_mann_whitney_ties_use_permutations():
    result = stats.mann_whitney_test([1, 2, 2, 3], [3, 4, 4, 5])
    assert "tied scores" in result.notes[0]
    assert 0 < result.p_value < 0.1


def test_probability_of_superiority_hand_computed():
    # 3 beats 1 and 2; 4 beats 1, 2 and 3.5: 5 of 6 pairs.
    assert stats.probability_of_superiority([3, 4], [1, 2, 3.5]) == pytest.approx(5 / 6)
    assert stats.probability_of_superiority([1, 2], [1, 2]) == pytest.approx(0.5)


def test_interquartile_mean_hand_computed():
    assert stats.interquartile_mean([1, 2, 3, 4, 5, 6, 7, 8]) == pytest.approx(4.5)
    assert stats.interquartile_mean([1, 2, 3, 100]) == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([0.9, 0.9, 0.9], True), ([0.9, 0.9 + 1e-12, 0.9], True), ([0.9, 0.91, 0.92], False), ([0.9], True)],
)
def test_is_degenerate(scores, expected):
    assert stats.is_degenerate(scores) is expected


def test_holm_hand_computed():
    # Sorted: 0.01*4 = 0.04, 0.03*3 = 0.09, 0.04*2 = 0.08 -> 0.09 (monotone), 0.2*1 = 0.2.
    adjusted = stats.holm_adjust([0.01, 0.04, 0.03, 0.2])
    assert adjusted == pytest.approx([0.04, 0.09, 0.09, 0.2])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_holm_bounds(p_values):
    adjusted = stats.holm_adjust(p_values)
    assert np.all(adjusted >= np.asarray(p_values) - 1e-15)
    assert np.all(adjusted <= np.minimum(1.0, len(p_values) * np.asarray(p_values)) + 1e-15)


def test_mde_large_df_approaches_normal():
    assert stats.minimum_detectable_effect(1.0, 1e6) == pytest.approx(1.95996 + 0.84162, abs=1e-3)


def test_seeds_needed_is_smallest_sufficient():
    n = stats.seeds_needed(0.015, 0.02)
    assert n == 10

    def power(seeds):
        df, noncentrality = 2 * seeds - 2, 0.02 / (0.015 * math.sqrt(2 / seeds))
        critical = scipy_stats.t.ppf(0.975, df)
        return scipy_stats.nct.sf(critical, df, noncentrality) + scipy_stats.nct.cdf(-critical, df, noncentrality)

    assert power(n) >= 0.8
    assert power(n - 1) < 0.8


def test_seeds_needed_special_cases():
    assert stats.seeds_needed(0.015, 0.0) is None
    assert stats.seeds_needed(0.015, 0.02, paired=True) < stats.seeds_needed(0.015, 0.02)


def test_diverged_mask_flags_low_outlier_only():
    mask = stats.diverged_mask([0.93, 0.94, 0.92, 0.50, 0.93, 0.99])
    assert mask.tolist() == [False, False, False, True, False, False]


def test_diverged_mask_with_zero_mad():
    assert stats.diverged_mask([0.9, 0.9, 0.9, 0.9, 0.3]).tolist() == [False, False, False, False, True]


def test_pocock_level_two_looks():
    assert stats.pocock_level(0.05) == pytest.approx(0.0294, abs=1e-4)
    assert stats.pocock_level(0.01) < 0.01


def test_pocock_level_holds_alpha_by_simulation():
    rng = np.random.default_rng(3)
    level = stats.pocock_level(0.05)
    first = rng.standard_normal(200_000)
    second = math.sqrt(0.5) * first + math.sqrt(0.5) * rng.standard_normal(200_000)
    critical = scipy_stats.norm.isf(level / 2)
    rejected = (np.abs(first) > critical) | (np.abs(second) > critical)
    assert np.mean(rejected) == pytest.approx(0.05, abs=0.002)


@pytest.mark.parametrize(
    ("delta", "p_value", "min_effect", "expected"),
    [
        (-0.03, 0.01, 0.0, -1),
        (0.03, 0.01, 0.0, 1),
        (-0.03, 0.2, 0.0, 0),
        (-0.03, 0.01, 0.05, 0),
        (-0.05, 0.01, 0.05, -1),
    ],
)
def test_classify(delta, p_value, min_effect, expected):
    assert stats.classify(delta, p_value, level=0.05, min_effect=min_effect) == expected
