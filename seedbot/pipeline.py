"""The path one run takes: sweep, baseline, verdict, comment, files.

`run` reads top to bottom and receives the store, runner and progress
reporter as arguments, so the command line, the GitHub Action and the tests
drive the same code with real or fake parts.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from seedbot.baseline import Baseline, BaselineRun, BaselineStore, baseline_from_dict, baseline_to_dict
from seedbot.config import Config, DecisionConfig, MetricsConfig, config_hash, parse_decision
from seedbot.errors import SeedbotError
from seedbot.files import write_text_atomically
from seedbot.formatting import plural
from seedbot.log import logger
from seedbot.report import ReportContext, load_template, render_comment
from seedbot.scorecard import SweepResult
from seedbot.sweep import Progress, Runner, run_sweep
from seedbot.verdict import Comparison, compare, interim_decision

RESULT_SCHEMA_VERSION = 1
RESULT_FILE = "result.json"
COMMENT_FILE = "comment.md"


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    config: Config
    sweep: SweepResult
    comparison: Comparison
    baseline: Baseline | None
    comment: str
    result_path: Path
    comment_path: Path
    exit_code: int


def run(
    config: Config,
    *,
    store: BaselineStore,
    output_dir: Path,
    context: ReportContext = ReportContext(),
    seeds: Sequence[int] | None = None,
    runner: Runner | None = None,
    progress: Progress | None = None,
    decision: DecisionConfig | None = None,
    template_path: Path | None = None,
) -> RunOutcome:
    """Sweep `config`, compare with the stored baseline, render the comment, write both files.

    `decision` replaces config.decision (the GitHub side passes the base branch's
    section, so a PR cannot loosen its own gate). `seeds` replaces the configured
    list and turns off the adaptive early stop. The baseline loads before the sweep,
    so an unreadable baseline fails before any training time is spent, and so does
    a `template_path` that cannot be read or compiled.
    """
    decision = config.decision if decision is None else decision
    if template_path is not None:
        load_template(template_path)
    baseline = store.load(config.name)
    if baseline is None:
        logger.info("no baseline for config %s; the verdict will be no_baseline", config.name)

    should_stop = None
    if config.seeds.adaptive and seeds is None and baseline is not None:
        should_stop = _interim_look(config, baseline, decision)

    sweep = run_sweep(
        config,
        output_dir=output_dir,
        seeds=seeds,
        runner=runner,
        progress=progress,
        commit=context.commit,
        should_stop=should_stop,
    )
    if should_stop is not None:
        # The final test of an adaptive sweep must use the Pocock level, at either look.
        look = 1 if sweep.stop_reason is not None else 2
        sweep = replace(sweep, extra={**sweep.extra, "adaptive": {"looks": 2, "stopped_at_look": look}})
    return report(
        config, sweep, baseline, output_dir=output_dir, context=context, decision=decision, template_path=template_path
    )


def report(
    config: Config,
    sweep: SweepResult,
    baseline: Baseline | None,
    *,
    output_dir: Path,
    context: ReportContext = ReportContext(),
    decision: DecisionConfig | None = None,
    template_path: Path | None = None,
) -> RunOutcome:
    """Compare a finished sweep with `baseline`, render the comment and write result.json and comment.md."""
    decision = config.decision if decision is None else decision
    _check_sweep_of(config, sweep)

    comparison = compare(sweep, baseline, metrics=config.metrics, decision=decision)
    logger.info("config %s: verdict %s: %s", config.name, comparison.verdict.value, comparison.reason)
    comment = render_comment(comparison, sweep, context=context, template_path=template_path, baseline=baseline)

    output_dir = Path(output_dir)
    result = result_to_dict(comparison, sweep, baseline, metrics=config.metrics, context=context)
    result_path = write_text_atomically(output_dir / RESULT_FILE, json.dumps(result, indent=2, allow_nan=False) + "\n")
    comment_path = write_text_atomically(output_dir / COMMENT_FILE, comment)
    logger.debug("wrote %s and %s", result_path, comment_path)

    return RunOutcome(
        config=config,
        sweep=sweep,
        comparison=comparison,
        baseline=baseline,
        comment=comment,
        result_path=result_path,
        comment_path=comment_path,
        exit_code=comparison.verdict.exit_code,
    )


def save_baseline(config: Config | None, sweep: SweepResult, store: BaselineStore, new_pool: bool = False) -> Baseline:
    """Store `sweep` as a baseline run for its config and return the merged baseline.

    With `config` None the run is saved under the sweep's config name unchecked.
    A sweep without a single successful seed is rejected: it has no scores to compare with.
    """
    name = sweep.config_name
    if config is not None:
        _check_sweep_of(config, sweep)
    if not sweep.ok:
        raise SeedbotError(
            f"config {name}: every seed of the sweep failed ({len(sweep.failed)} of {len(sweep.scorecards)}); "
            "fix the failures (see the seed-<n>.json files) before saving a baseline"
        )
    if sweep.failed:
        failed_seeds = ", ".join(str(card.seed) for card in sweep.failed)
        logger.warning("config %s: saving a baseline with failed seeds %s", name, failed_seeds)

    created_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    run_record = BaselineRun.from_sweep(sweep, created_at=created_at)
    baseline = store.save(name, run_record, new_pool=new_pool)
    logger.info(
        "config %s: saved %s as a baseline run (%s in the pool, %d in the history)",
        name, plural(len(sweep.scorecards), "seed"), plural(len(baseline.pool), "run"), len(baseline.history),
    )
    return baseline


def render_result(path: Path, *, template_path: Path | None = None) -> str:
    """Render the comment again from a result.json, for example with another template.

    The comparison is recomputed from the sweep, baseline and settings stored in the
    file, so the numbers match the original run unless seedbot's statistics changed.
    """
    raw = read_result(path)
    missing = [key for key in ("sweep", "baseline", "metrics", "comparison", "context") if key not in raw]
    if missing:
        raise SeedbotError(f"{path}: missing keys {', '.join(missing)}; run `seedbot run` again to write a complete result")
    try:
        sweep = SweepResult.from_dict(raw["sweep"])
        baseline = None if raw["baseline"] is None else baseline_from_dict(raw["baseline"], source=str(path))
        metrics = MetricsConfig(
            compute=tuple(raw["metrics"]["compute"]),
            gate=tuple(raw["metrics"]["gate"]),
            direction=dict(raw["metrics"]["direction"]),
        )
        decision = parse_decision(raw["comparison"]["decision"])
        stored_context = raw["context"]
        context = ReportContext(
            **{key: stored_context.get(key) for key in CONTEXT_FIELDS}, notes=tuple(stored_context.get("notes", ()))
        )
    except SeedbotError as error:
        raise SeedbotError(f"{path}: {error}") from error
    except (KeyError, TypeError, AttributeError) as error:
        raise SeedbotError(f"{path}: invalid result file ({type(error).__name__}: {error}); run `seedbot run` again") from error

    comparison = compare(sweep, baseline, metrics=metrics, decision=decision)
    if comparison.verdict.value != raw.get("verdict"):
        logger.warning(
            "%s: the recomputed verdict %s differs from the stored %s, probably because seedbot's statistics changed since the run",
            path, comparison.verdict.value, raw.get("verdict"),
        )
    return render_comment(comparison, sweep, context=context, template_path=template_path, baseline=baseline)


# ---------------------------------------------------------------- result.json

# ReportContext fields stored in result.json.
# NOTE: gate_comparison (the verdict under the PR's own decision section) is not
# stored, so a comment rendered again by `seedbot render` lacks that section.
CONTEXT_FIELDS = ("commit", "base_ref", "head_ref", "run_url", "stale_head", "seeds_override")


def result_to_dict(
    comparison: Comparison,
    sweep: SweepResult,
    baseline: Baseline | None,
    *,
    metrics: MetricsConfig,
    context: ReportContext,
) -> dict[str, Any]:
    """Build the result.json payload: the verdict first, then everything needed to render it again."""
    return {
        "schema_version": RESULT_SCHEMA_VERSION,
        "config_name": comparison.config_name,
        "verdict": comparison.verdict.value,
        "reason": comparison.reason,
        "exit_code": comparison.verdict.exit_code,
        "comparison": comparison.to_dict(),
        "sweep": sweep.to_dict(),
        "baseline": None if baseline is None else baseline_to_dict(baseline),
        "metrics": {"compute": list(metrics.compute), "gate": list(metrics.gate), "direction": dict(metrics.direction)},
        "context": {**{key: getattr(context, key) for key in CONTEXT_FIELDS}, "notes": list(context.notes)},
    }


def read_result(path: Path) -> Mapping[str, Any]:
    """Read a result.json and check its schema version."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SeedbotError(f"result file not found: {path}; `seedbot run` writes it into its output directory") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SeedbotError(f"{path}: failed to read the result file ({error})") from error
    except json.JSONDecodeError as error:
        raise SeedbotError(f"{path}: invalid JSON at line {error.lineno}, column {error.colno} ({error.msg})") from error
    if not isinstance(raw, dict) or "schema_version" not in raw:
        raise SeedbotError(f"{path}: not a seedbot result file (no schema_version); pass the result.json of `seedbot run`")
    if raw["schema_version"] != RESULT_SCHEMA_VERSION:
        raise SeedbotError(
            f"{path}: result schema_version {raw['schema_version']!r} is not supported "
            f"(this seedbot reads {RESULT_SCHEMA_VERSION}); use the seedbot version that wrote it"
        )
    return raw


def _check_sweep_of(config: Config, sweep: SweepResult) -> None:
    """Raise when `sweep` ran another config; warn when the config file changed since the sweep."""
    if sweep.config_name != config.name:
        raise SeedbotError(
            f"the sweep is of config {sweep.config_name!r} but the config is named {config.name!r}; "
            "pass the config the sweep ran"
        )
    current = config_hash(config)
    if sweep.config_hash != current:
        logger.warning(
            "config %s: the sweep ran with config hash %s, the config file now hashes to %s",
            config.name, sweep.config_hash[:12], current[:12],
        )


def _interim_look(config: Config, baseline: Baseline, decision: DecisionConfig) -> Callable[[SweepResult], str | None]:
    """Build the sweep's stop check: one interim look, after config.seeds.adaptive_min seeds."""

    def should_stop(partial: SweepResult) -> str | None:
        if len(partial.scorecards) != config.seeds.adaptive_min:
            return None
        look = interim_decision(partial, baseline, metrics=config.metrics, decision=decision)
        logger.info("config %s: interim look after %d seeds: %s", config.name, len(partial.scorecards), look.reason)
        return look.reason if look.stop else None

    return should_stop
