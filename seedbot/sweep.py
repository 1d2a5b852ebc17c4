"""The seed sweep: one runner, N seeds, one scorecard each.

Layout of `output_dir` after a sweep:

    seed-<n>.json   the scorecard of seed n, written as soon as the seed ends
    seed-<n>/       what the runner saved for seed n (adapter/, metrics.json, logs)
    results.json    every scorecard so far, rewritten after each seed
"""

from __future__ import annotations

import gc
import math
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

import torch

from seedbot import provenance
from seedbot.config import Config, config_hash
from seedbot.data import dataset_hash
from seedbot.errors import ConfigError, SeedbotError
from seedbot.log import logger
from seedbot.progress import SilentProgress
from seedbot.scorecard import Scorecard, SweepResult, write_results, write_scorecard
from seedbot.seeding import resolve_device

RESULTS_FILE = "results.json"


class Progress(Protocol):
    """Receives progress events; the terminal and Actions reporters implement it."""

    def seed_started(self, seed: int, index: int, total: int) -> None: ...

    def step(self, seed: int, step: int, total_steps: int) -> None: ...

    def seed_finished(self, card: Scorecard) -> None: ...


class Runner(Protocol):
    """Trains and evaluates one seed. Raising (or returning NaN) marks the seed failed."""

    def prepare(self, config: Config) -> None:
        """One-time work per sweep (builtin: load the base model and tokenize the data)."""

    def run_seed(self, seed: int, output_dir: Path, progress: Progress) -> Mapping[str, float]:
        """Train and evaluate with `seed`; save artifacts under output_dir; return the metrics."""


def make_runner(config: Config) -> Runner:
    """Build the runner that config.runner.kind names."""
    if config.runner.kind == "builtin":
        from seedbot.runners.builtin import BuiltinRunner

        return BuiltinRunner()
    if config.runner.kind == "command":
        from seedbot.runners.command import CommandRunner

        return CommandRunner()
    raise ConfigError("runner.kind", f"unknown runner {config.runner.kind!r}; use builtin or command")


def run_sweep(
    config: Config,
    *,
    output_dir: Path,
    seeds: Sequence[int] | None = None,
    runner: Runner | None = None,
    progress: Progress | None = None,
    commit: str | None = None,
    should_stop: Callable[[SweepResult], str | None] | None = None,
) -> SweepResult:
    """Run every seed (default config.seeds.seeds), writing `seed-<n>.json` and `results.json`.

    `should_stop` is called after each seed with the partial result; a non-None
    return is the stop reason (used by adaptive seed counts).

    A seed that raises (out-of-memory errors included) or returns a NaN or
    infinite metric becomes a failed scorecard and the sweep goes on. Errors
    in `runner.prepare` (a missing model or data file) are raised, because
    every seed would fail the same way.
    """
    seed_list = _check_seeds(config.seeds.seeds if seeds is None else seeds)
    output_dir = _make_output_dir(Path(output_dir))
    runner = make_runner(config) if runner is None else runner
    progress = SilentProgress() if progress is None else progress

    hashes = {"config_hash": config_hash(config), "dataset_hash": dataset_hash(config.data)}
    device = str(resolve_device(config.training.device)) if config.runner.kind == "builtin" else None
    environment = provenance.collect(device)
    logger.info("sweep %s: %d seeds (%s) into %s", config.name, len(seed_list), ", ".join(map(str, seed_list)), output_dir)

    runner.prepare(config)
    # A runner may describe the prepared sweep in an `extra` dict (the builtin
    # runner: row counts, steps, label names); it goes into SweepResult.extra.
    extra: dict[str, Any] = {"seeds": list(seed_list), **getattr(runner, "extra", {})}

    cards: list[Scorecard] = []
    stop_reason = None
    result = _result(config, hashes, cards, environment, commit, None, extra)
    for index, seed in enumerate(seed_list, start=1):
        progress.seed_started(seed, index, len(seed_list))
        card = _run_one_seed(runner, seed, output_dir / f"seed-{seed}", progress, hashes, environment)
        write_scorecard(card, output_dir)
        cards.append(card)
        progress.seed_finished(card)

        result = _result(config, hashes, cards, environment, commit, None, extra)
        stop_reason = should_stop(result) if should_stop is not None else None
        if stop_reason is not None:
            logger.info("sweep %s: stopping after %d of %d seeds: %s", config.name, index, len(seed_list), stop_reason)
            result = _result(config, hashes, cards, environment, commit, stop_reason, extra)
            write_results(result, output_dir / RESULTS_FILE)
            break
        write_results(result, output_dir / RESULTS_FILE)

    logger.info("sweep %s: %d ok, %d failed", config.name, len(result.ok), len(result.failed))
    return result


def _run_one_seed(
    runner: Runner,
    seed: int,
    seed_dir: Path,
    progress: Progress,
    hashes: Mapping[str, str],
    environment: Mapping[str, str | None],
) -> Scorecard:
    seed_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    error = None
    metrics: dict[str, float] = {}
    try:
        metrics = {name: float(value) for name, value in runner.run_seed(seed, seed_dir, progress).items()}
        not_finite = [f"{name}={value}" for name, value in metrics.items() if not math.isfinite(value)]
        if not_finite:
            raise ValueError(f"metric {', '.join(not_finite)} is not finite; the run diverged or its evaluation failed")
    except Exception as exc:  # noqa: BLE001 - every failure of one seed is recorded, the sweep goes on
        error = one_line(exc)
    duration = time.perf_counter() - start

    if error is not None:
        # Outside the except block the traceback, which holds the seed's model, is gone,
        # so the memory can be given back before the next seed (after an out-of-memory error too).
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        logger.warning("seed %d failed after %.1f s: %s", seed, duration, error)
        return Scorecard(seed=seed, status="failed", metrics={}, duration_s=duration, provenance=environment, error=error, **hashes)
    logger.debug("seed %d ok after %.1f s: %s", seed, duration, metrics)
    return Scorecard(seed=seed, status="ok", metrics=metrics, duration_s=duration, provenance=environment, **hashes)


def one_line(exc: BaseException) -> str:
    """Format an exception as `ExceptionType: message` on one line, joining message lines with " | "."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {' | '.join(lines)}" if lines else type(exc).__name__


def _make_output_dir(output_dir: Path) -> Path:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        raise SeedbotError(
            f"cannot create the output directory {output_dir}: a file is in the way ({error.strerror}: "
            f"{error.filename}); pass another directory, or move the file away"
        ) from error
    return output_dir


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    if not seeds:
        raise ConfigError("seeds", "the seed list is empty; give at least one seed")
    seen: set[int] = set()
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError("seeds", f"seeds must be non-negative integers, got {seed!r}")
        if seed in seen:
            raise ConfigError("seeds", f"seed {seed} is listed twice; list each seed once")
        seen.add(seed)
    return tuple(seeds)


def _result(
    config: Config,
    hashes: Mapping[str, str],
    cards: list[Scorecard],
    environment: Mapping[str, str | None],
    commit: str | None,
    stop_reason: str | None,
    extra: Mapping[str, Any],
) -> SweepResult:
    return SweepResult(
        config_name=config.name,
        scorecards=tuple(cards),
        provenance=environment,
        commit=commit,
        stop_reason=stop_reason,
        extra=extra,
        **hashes,
    )
