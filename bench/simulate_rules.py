"""Simulate seedbot's decision rules and print their error rates as a Markdown table.

For each rule and seed count n, it draws `--trials` pairs of arms of normal
seed scores (sigma 0.015 by default) and counts how often the rule alarms.
At delta 0, any verdict other than no_change is a false alarm. At a negative
delta, the detection rate is the share of `regressed` verdicts. Scenarios:
independent arms, arms correlated through a shared seed effect (rho 0.5,
the case the paired rule is for), and arms where each seed diverges with
probability 0.1 (its score drops by 0.3, as when a run collapses to the
majority class). The adaptive design runs the candidate with n seeds, then
2n, against a baseline of 2n seeds.

The rules are the functions in seedbot.stats that the verdict uses, applied
to stacked arrays of shape (trials, n). Run from the repository root:

    python bench/simulate_rules.py
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seedbot import stats  # noqa: E402

DELTAS = (0.0, -0.02, -0.04)
SEED_COUNTS = (3, 5, 10)
SCENARIOS = ("independent", "paired rho=0.5", "10% diverging")
DIVERGE_PROBABILITY = 0.1
DIVERGE_DROP = 0.3
MEAN_SCORE = 0.93


def draw_arms(rng: np.random.Generator, scenario: str, trials: int, n_candidate: int, n_baseline: int,
              delta: float, sigma: float, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Draw (candidate, baseline) scores of shapes (trials, n_candidate) and (trials, n_baseline)."""
    if scenario == "paired rho=0.5":
        # A seed effect shared by both arms on the same seed gives correlation rho.
        n = max(n_candidate, n_baseline)
        shared = rng.standard_normal((trials, n)) * math.sqrt(rho)
        own = math.sqrt(1 - rho)
        candidate = shared[:, :n_candidate] + own * rng.standard_normal((trials, n_candidate))
        baseline = shared[:, :n_baseline] + own * rng.standard_normal((trials, n_baseline))
    else:
        candidate = rng.standard_normal((trials, n_candidate))
        baseline = rng.standard_normal((trials, n_baseline))
    candidate = MEAN_SCORE + delta + sigma * candidate
    baseline = MEAN_SCORE + sigma * baseline
    if scenario == "10% diverging":
        candidate -= DIVERGE_DROP * (rng.random(candidate.shape) < DIVERGE_PROBABILITY)
        baseline -= DIVERGE_DROP * (rng.random(baseline.shape) < DIVERGE_PROBABILITY)
    return candidate, baseline


def fixed_rule(rule: str, candidate: np.ndarray, baseline: np.ndarray, alpha: float, band_k: float) -> np.ndarray:
    """Return the outcome per trial: -1 regressed, +1 improved, 0 no change."""
    if rule == "band":
        return stats.band_test(candidate, baseline, k=band_k)
    test = {"welch": stats.welch_test, "paired": stats.paired_test, "mann-whitney": stats.mann_whitney_test}[rule]
    result = test(candidate, baseline, confidence=1 - alpha)
    return stats.classify(result.delta, result.p_value, level=alpha)


def adaptive_rule(candidate: np.ndarray, baseline: np.ndarray, n_first: int, level: float,
                  futility_p: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Two looks with Welch: n_first candidate seeds, then all; return (outcome, seeds used) per trial."""
    first = stats.welch_test(candidate[:, :n_first], baseline)
    first_outcome = stats.classify(first.delta, first.p_value, level=level)
    futile = first.p_value > futility_p if futility_p is not None else np.zeros(first_outcome.shape, dtype=bool)
    stop = (first_outcome != 0) | futile
    second = stats.welch_test(candidate, baseline)
    second_outcome = stats.classify(second.delta, second.p_value, level=level)
    outcome = np.where(stop, first_outcome, second_outcome)
    seeds = np.where(stop, n_first, candidate.shape[1])
    return outcome, seeds


def simulate(trials: int, sigma: float, alpha: float, band_k: float, rho: float, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    pocock = stats.pocock_level(alpha)
    rows = []
    for scenario in SCENARIOS:
        for n in SEED_COUNTS:
            cells: dict[str, dict] = {}
            for delta in DELTAS:
                candidate, baseline = draw_arms(rng, scenario, trials, n, n, delta, sigma, rho)
                for rule in ("welch", "paired", "band", "mann-whitney"):
                    cell = cells.setdefault(rule, {"rule": rule})
                    if rule == "mann-whitney" and n < stats.MIN_MANN_WHITNEY_SEEDS:
                        cell[delta] = None
                        continue
                    outcome = fixed_rule(rule, candidate, baseline, alpha, band_k)
                    cell[delta] = np.mean(outcome != 0) if delta == 0 else np.mean(outcome == -1)
                    cell["seeds"] = n

                candidate, baseline = draw_arms(rng, scenario, trials, 2 * n, 2 * n, delta, sigma, rho)
                for name, level, futility in ((f"adaptive welch {n}->{2 * n}", pocock, stats.FUTILITY_P),
                                              (f"two looks at unadjusted alpha {n}->{2 * n} (not shipped)", alpha, None)):
                    outcome, seeds = adaptive_rule(candidate, baseline, n, level, futility)
                    cell = cells.setdefault(name, {"rule": name})
                    cell[delta] = np.mean(outcome != 0) if delta == 0 else np.mean(outcome == -1)
                    if delta == 0:
                        cell["seeds"] = float(np.mean(seeds))
            for cell in cells.values():
                rows.append({"scenario": scenario, "n": n, **cell})
    return rows


def render(rows: list[dict], trials: int, alpha: float) -> str:
    bound = alpha + 2 * math.sqrt(alpha * (1 - alpha) / trials)
    lines = [
        "| scenario | rule | n | false alarm (Δ=0) | detect Δ=−0.02 | detect Δ=−0.04 | mean candidate seeds (Δ=0) | false alarm ≤ α + 2 SE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row[0.0] is None:
            lines.append(f"| {row['scenario']} | {row['rule']} | {row['n']} | rejected: fewer than "
                         f"{stats.MIN_MANN_WHITNEY_SEEDS} seeds | | | | |")
            continue
        holds = "yes" if row[0.0] <= bound else "no"
        lines.append(
            f"| {row['scenario']} | {row['rule']} | {row['n']} | {row[0.0]:.2%} | {row[-0.02]:.2%} | "
            f"{row[-0.04]:.2%} | {row['seeds']:.2f} | {holds} |"
        )
    lines.append("")
    lines.append(f"α = {alpha:g}; bound α + 2 Monte Carlo SE = {bound:.2%} at {trials:,} trials per cell.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000, help="simulated sweeps per cell (default 20000)")
    parser.add_argument("--sigma", type=float, default=0.015, help="seed standard deviation in metric units (default 0.015)")
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (default 0.05)")
    parser.add_argument("--band-k", type=float, default=1.5, help="k of the band rule (default 1.5)")
    parser.add_argument("--rho", type=float, default=0.5, help="seed correlation of the paired scenario (default 0.5)")
    parser.add_argument("--seed", type=int, default=20240611, help="seed of the numpy Generator (default 20240611)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rows = simulate(args.trials, args.sigma, args.alpha, args.band_k, args.rho, args.seed)
    print(render(rows, args.trials, args.alpha))
    print(f"\nsimulated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
