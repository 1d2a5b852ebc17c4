"""The `seedbot` command line: run, sweep, compare, baseline save|show, render.

`main` only parses arguments, builds the real store and progress reporter, and
turns exceptions into exit codes. The work happens in seedbot.pipeline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from seedbot import __version__
from seedbot.config import Config, DecisionConfig, load_config
from seedbot.errors import BaselineNotFound, ConfigError, SeedbotError
from seedbot.files import write_text_atomically
from seedbot.formatting import plural
from seedbot.log import logger, setup_logging

# The pipeline, sweep, store and report modules import torch and scipy (seconds of
# start-up), so the command handlers import them after the config has loaded. That
# keeps --help and invalid-input errors fast.
if TYPE_CHECKING:
    from seedbot.baseline import Baseline, LocalBaselineStore
    from seedbot.pipeline import RunOutcome
    from seedbot.scorecard import Scorecard, SweepResult

EXIT_CODES = """\
exit codes:
  0  no regression (improved or no change)
  1  regression
  2  invalid input (config, arguments, files)
  3  inconclusive, or no baseline to compare with
  4  seedbot failed unexpectedly (a bug: the traceback is printed)
  130  interrupted
"""
EXIT_INCONCLUSIVE = 3
EXIT_INTERNAL_ERROR = 4
EXIT_INTERRUPTED = 130
RESULTS_FILE = "results.json"
DEFAULT_BASELINE_DIR = Path(".seedbot/baselines")  # seedbot.baseline.DEFAULT_DIRECTORY, checked by a test


# ---------------------------------------------------------------- argument types


def _seed_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {count}")
    return count


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedbot",
        description="Gate fine-tuning changes on seed variance: sweep N seeds, compare with a baseline, render a comment.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"seedbot {__version__}")

    def logging_options(quiet_help: str) -> argparse.ArgumentParser:
        options = argparse.ArgumentParser(add_help=False)
        verbosity = options.add_mutually_exclusive_group()
        verbosity.add_argument("--quiet", "-q", action="store_true", help=quiet_help)
        verbosity.add_argument("--verbose", "-v", action="store_true", help="log debug detail")
        return options

    sweep_logging = logging_options("log warnings and errors only, and print one line per finished seed")
    plain_logging = logging_options("log warnings and errors only")

    def seeds_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--seeds", type=_seed_count, metavar="N",
            help="run N seeds: the config's first N, then the next unused integers "
            "(the Action's seeds input does the same; also turns off adaptive early stopping)",
        )

    def baseline_dir_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--baseline-dir", type=Path, default=DEFAULT_BASELINE_DIR, metavar="DIR",
            help=f"directory of the local baseline store, one JSON file per config name (default: {DEFAULT_BASELINE_DIR})",
        )

    def template_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--template", type=Path, metavar="PATH",
            help="Jinja2 template for the comment, rendered in a sandbox (default: the packaged template)",
        )

    def commit_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--commit", metavar="SHA",
            help="commit recorded with the sweep (default: git HEAD of the config's directory, if it is a git checkout)",
        )

    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="`seedbot COMMAND --help` lists its options"
    )

    run_parser = commands.add_parser(
        "run", parents=[sweep_logging], epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
        help="sweep, compare with the baseline and render the comment (the main job)",
        description="Sweep the config's seeds, compare with the stored baseline, and write\n"
        "result.json and comment.md. Prints the verdict; the exit code is the verdict's.",
    )
    run_parser.add_argument("config", type=Path, metavar="CONFIG", help="path to the .seedbot.yml")
    run_parser.add_argument(
        "--output-dir", type=Path, metavar="DIR",
        help="directory for seed artifacts, results.json, result.json and comment.md (default: out/<config name>)",
    )
    baseline_dir_option(run_parser)
    seeds_option(run_parser)
    template_option(run_parser)
    commit_option(run_parser)

    sweep_parser = commands.add_parser(
        "sweep", parents=[sweep_logging], help="run the seed sweep only and write results.json",
        description="Run every seed of the config and write seed-<n>.json and results.json. "
        "Exit code 0 when every seed succeeded, 3 when any failed.",
    )
    sweep_parser.add_argument("config", type=Path, metavar="CONFIG", help="path to the .seedbot.yml")
    sweep_parser.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="directory for seed artifacts and results.json (default: out/<config name>)"
    )
    seeds_option(sweep_parser)
    commit_option(sweep_parser)

    compare_parser = commands.add_parser(
        "compare", parents=[plain_logging], epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
        help="compare a finished sweep with the baseline and render the comment",
        description="Compare the results.json of `seedbot sweep` with the stored baseline, and write\n"
        "result.json and comment.md. The exit code is the verdict's.",
    )
    compare_parser.add_argument("results", type=Path, metavar="RESULTS", help="results.json written by `seedbot sweep`, or its directory")
    compare_parser.add_argument("--config", type=Path, required=True, metavar="CONFIG", help="the .seedbot.yml the sweep ran (its metrics and decision sections apply)")
    compare_parser.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="directory for result.json and comment.md (default: the directory of RESULTS)"
    )
    baseline_dir_option(compare_parser)
    template_option(compare_parser)

    baseline_parser = commands.add_parser("baseline", help="save or show stored baselines", description="Save or show stored baselines.")
    baseline_commands = baseline_parser.add_subparsers(
        dest="baseline_command", required=True, metavar="COMMAND", help="`seedbot baseline COMMAND --help` lists its options"
    )

    save_parser = baseline_commands.add_parser(
        "save", parents=[
            logging_options("log warnings and errors only; with --sweep, also print one line per finished seed")
        ], help="store a sweep as a baseline run",
        description="Store a sweep as a baseline run: from a results.json (or its directory), or, with --sweep, "
        "by running a sweep of a config first. Exit code 3, and nothing saved, when fewer than "
        "decision.min_seeds seeds succeeded.",
    )
    save_parser.add_argument("source", type=Path, metavar="RESULTS_OR_CONFIG", help="results.json (or its directory), or a .seedbot.yml with --sweep")
    save_parser.add_argument("--sweep", action="store_true", help="RESULTS_OR_CONFIG is a config: run its sweep, then save it")
    save_parser.add_argument(
        "--config", type=Path, metavar="CONFIG",
        help="for a results.json: the .seedbot.yml it ran, to check the config name and hash (default: no check)",
    )
    save_parser.add_argument(
        "--new-pool", action="store_true",
        help="start a new pool: earlier runs move to the history and no longer count for comparisons",
    )
    save_parser.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="with --sweep: directory for the sweep (default: out/<config name>)"
    )
    baseline_dir_option(save_parser)
    seeds_option(save_parser)
    commit_option(save_parser)

    show_parser = baseline_commands.add_parser(
        "show", parents=[plain_logging], help="print a stored baseline's pool and scores",
        description="Print the runs in a stored baseline's pool, with the mean and standard deviation of each metric. "
        "Exit code 3 when no baseline is stored under NAME.",
    )
    show_parser.add_argument("name", metavar="NAME", help="config name (the `name` field of the .seedbot.yml)")
    show_parser.add_argument("--json", action="store_true", help="print the stored JSON instead of a summary")
    baseline_dir_option(show_parser)

    render_parser = commands.add_parser(
        "render", parents=[plain_logging], help="render the comment again from a result.json",
        description="Render the comment again from the result.json of `seedbot run` or `seedbot compare`, "
        "for example with another template. Prints it, or writes it with --output.",
    )
    render_parser.add_argument("result", type=Path, metavar="RESULT_JSON", help="result.json written by `seedbot run` or `seedbot compare`")
    template_option(render_parser)
    render_parser.add_argument("--output", type=Path, metavar="PATH", help="write the comment to PATH instead of standard output")

    return parser


# ---------------------------------------------------------------- commands


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = _baseline_store(args.baseline_dir)
    output_dir = _output_dir(args, config)
    from seedbot import pipeline
    from seedbot.progress import make_progress
    from seedbot.report import ReportContext

    context = ReportContext(commit=_commit(args, config), seeds_override=args.seeds)
    outcome = pipeline.run(
        config,
        store=store,
        output_dir=output_dir,
        context=context,
        seeds=_seed_list(args.seeds, config),
        progress=make_progress(quiet=args.quiet),
        template_path=args.template,
    )
    _print_verdict(outcome)
    return outcome.exit_code


def _sweep(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    output_dir = _output_dir(args, config)
    sweep = _run_sweep(args, config, output_dir)
    print(f"{config.name}: {len(sweep.ok)} of {len(sweep.scorecards)} seeds ok")
    print(f"results: {output_dir / RESULTS_FILE}")
    return 3 if sweep.failed else 0


def _compare(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = _baseline_store(args.baseline_dir)
    if args.output_dir is not None:
        _check_directory(args.output_dir, "--output-dir")
    from seedbot import pipeline
    from seedbot.report import ReportContext
    from seedbot.scorecard import read_results

    results_path = _results_path(args.results)
    sweep = read_results(results_path)
    outcome = pipeline.report(
        config,
        sweep,
        store.load(config.name),
        output_dir=args.output_dir or results_path.parent,
        context=ReportContext(commit=sweep.commit),
        template_path=args.template,
    )
    _print_verdict(outcome)
    return outcome.exit_code


def _baseline_save(args: argparse.Namespace) -> int:
    if args.sweep:
        if args.config is not None:
            raise ConfigError("--config", "with --sweep the config is RESULTS_OR_CONFIG itself; drop --config")
        config: Config | None = load_config(args.source)
        store = _baseline_store(args.baseline_dir)
        sweep_dir = _output_dir(args, config)
        sweep = _run_sweep(args, config, sweep_dir)
    else:
        if args.source.suffix.lower() in (".yml", ".yaml"):
            raise ConfigError(
                "RESULTS_OR_CONFIG", f"{args.source} is a config; add --sweep to run it first, or pass a results.json"
            )
        for option in ("seeds", "output_dir", "commit"):
            if getattr(args, option) is not None:
                raise ConfigError(f"--{option.replace('_', '-')}", "applies only with --sweep")
        config = load_config(args.config) if args.config is not None else None
        store = _baseline_store(args.baseline_dir)
        from seedbot.scorecard import read_results

        results_path = _results_path(args.source)
        sweep = read_results(results_path)
        sweep_dir = results_path.parent

    too_few = _too_few_seeds(sweep, config, sweep_dir)
    if too_few is not None:
        print(f"seedbot: error: {too_few}", file=sys.stderr)
        return EXIT_INCONCLUSIVE

    from seedbot import pipeline

    baseline = pipeline.save_baseline(config, sweep, store, new_pool=args.new_pool)
    failed_note = f" ({_name_seeds(sweep.failed)} failed: stored, but not compared)" if sweep.failed else ""
    print(f"{baseline.config_name}: saved {plural(len(sweep.ok), 'ok seed')}{failed_note}; {plural(len(baseline.pool), 'run')} in the pool")
    print(f"baseline: {store.path(baseline.config_name)}")
    return 0


def _baseline_show(args: argparse.Namespace) -> int:
    from seedbot.baseline import baseline_to_dict

    store = _baseline_store(args.baseline_dir)
    # Checked here because store.load also logs a missing file, which would repeat the error below.
    baseline = store.load(args.name) if store.path(args.name).exists() else None
    if baseline is None:
        raise BaselineNotFound(
            f"no baseline for config {args.name!r} in {args.baseline_dir}; save one with `seedbot baseline save`"
        )
    if args.json:
        print(json.dumps(baseline_to_dict(baseline), indent=2))
    else:
        print(_describe_baseline(baseline))
    return 0


def _render(args: argparse.Namespace) -> int:
    if args.output is not None:
        if args.output.is_dir():
            raise ConfigError("--output", f"{args.output} is a directory; pass a file path, e.g. {args.output / 'comment.md'}")
        blocking = _blocking_file(args.output.parent)
        if blocking is not None:
            raise ConfigError(
                "--output", f"cannot write {args.output} because {blocking} is a file; pass another path, or move the file away"
            )
    from seedbot import pipeline

    comment = pipeline.render_result(args.result, template_path=args.template)
    if args.output is None:
        sys.stdout.write(comment)
    else:
        write_text_atomically(args.output, comment)
        print(f"comment: {args.output}")
    return 0


# ---------------------------------------------------------------- helpers


def _output_dir(args: argparse.Namespace, config: Config) -> Path:
    """Return --output-dir, or out/<config name>, after checking that it can be a directory."""
    output_dir = args.output_dir if args.output_dir is not None else Path("out") / config.name
    _check_directory(output_dir, "--output-dir")
    return output_dir


def _baseline_store(directory: Path) -> "LocalBaselineStore":
    from seedbot.baseline import LocalBaselineStore

    _check_directory(directory, "--baseline-dir")
    return LocalBaselineStore(directory)


def _check_directory(path: Path, option: str) -> None:
    """Raise ConfigError when `path` cannot be a directory because a file is in the way.

    The handlers call it before any seed runs, so a mistyped path fails at once
    rather than after the sweep, when the first file is written.
    """
    blocking = _blocking_file(path)
    if blocking == path:
        raise ConfigError(option, f"{path} exists and is not a directory; pass a directory path, or move the file away")
    if blocking is not None:
        raise ConfigError(
            option, f"{path} cannot be a directory because {blocking} is a file; pass another path, or move the file away"
        )


def _blocking_file(path: Path) -> Path | None:
    """Return `path`, or the nearest of its parents that exists, when that one is not a directory."""
    for existing in (path, *path.parents):
        if existing.exists():
            return None if existing.is_dir() else existing
    return None


def _seed_list(count: int | None, config: Config) -> tuple[int, ...] | None:
    """Return the --seeds N override: the config's first N seeds, then the next unused integers."""
    if count is None:
        return None
    from seedbot.action_settings import override_seeds

    return override_seeds(config.seeds.seeds, count)


def _run_sweep(args: argparse.Namespace, config: Config, output_dir: Path) -> "SweepResult":
    from seedbot.progress import make_progress
    from seedbot.sweep import run_sweep

    return run_sweep(
        config,
        output_dir=output_dir,
        seeds=_seed_list(args.seeds, config),
        progress=make_progress(quiet=args.quiet),
        commit=_commit(args, config),
    )


def _too_few_seeds(sweep: "SweepResult", config: Config | None, sweep_dir: Path) -> str | None:
    """Return why `sweep` cannot be a baseline, or None when enough of its seeds succeeded.

    The Action rejects the same sweeps: a baseline with fewer successful seeds than
    decision.min_seeds makes every later comparison inconclusive.
    """
    min_seeds = (config.decision if config is not None else DecisionConfig()).min_seeds
    if len(sweep.ok) >= min_seeds:
        return None
    default_note = "" if config is not None else " (the default; pass --config to use the config's)"
    if sweep.failed:
        outcome = f"{len(sweep.failed)} of {len(sweep.scorecards)} seeds failed ({_name_seeds(sweep.failed)})"
        fix = f"fix the failing seeds (their errors are in {sweep_dir / 'seed-<n>.json'}) and run the sweep again"
    else:
        outcome = f"the sweep ran {len(sweep.scorecards)} seeds"
        fix = f"run a sweep of at least {min_seeds} seeds"
    return (
        f"baseline {sweep.config_name} not saved: {outcome}, so only {len(sweep.ok)} succeeded, "
        f"fewer than decision.min_seeds = {min_seeds}{default_note}; {fix}"
    )


def _name_seeds(cards: Sequence["Scorecard"]) -> str:
    """Format scorecards' seeds as `seed 3` or `seeds 1, 3`."""
    noun = "seed" if len(cards) == 1 else "seeds"
    return f"{noun} {', '.join(str(card.seed) for card in cards)}"


def _results_path(path: Path) -> Path:
    return path / RESULTS_FILE if path.is_dir() else path


def _commit(args: argparse.Namespace, config: Config) -> str | None:
    """Return --commit, else the git HEAD of the config's directory, else None."""
    if args.commit:
        return args.commit
    directory = config.source.parent if config.source is not None else Path.cwd()
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.debug("no commit recorded: git rev-parse failed (%s)", error)
        return None
    if completed.returncode != 0:
        logger.debug("no commit recorded: %s is not in a git checkout", directory)
        return None
    return completed.stdout.strip() or None


def _print_verdict(outcome: "RunOutcome") -> None:
    comparison = outcome.comparison
    print(f"{comparison.config_name}: {comparison.verdict.value}: {comparison.reason}")
    print(f"comment: {outcome.comment_path}")
    print(f"result: {outcome.result_path}")


def _describe_baseline(baseline: "Baseline") -> str:
    lines = [f"baseline {baseline.config_name}: {plural(len(baseline.pool), 'run')} in the pool, {len(baseline.history)} in the history"]
    for index, run in enumerate(baseline.pool):
        ok = [card for card in run.scorecards if card.status == "ok"]
        commit = run.commit[:12] if run.commit else "no commit"
        lines.append(
            f"  run {index}: {commit}, saved {run.created_at}, {len(ok)} of {len(run.scorecards)} seeds ok, "
            f"config hash {run.config_hash[:12]}"
        )
    metrics = sorted({name for run in baseline.pool for card in run.scorecards for name in card.metrics})
    for metric in metrics:
        scores = list(baseline.scores(metric).values())
        lines.append(f"  {metric}: {_mean_std(scores)} over {len(scores)} seeds")
    return "\n".join(lines)


def _mean_std(scores: Sequence[float]) -> str:
    if not scores:
        return "no scores"
    if len(scores) == 1:
        return f"{scores[0]:.4g}"
    return f"{statistics.fmean(scores):.4g} ± {statistics.stdev(scores):.2g} (mean ± sample std)"


HANDLERS = {
    "run": _run,
    "sweep": _sweep,
    "compare": _compare,
    "render": _render,
    ("baseline", "save"): _baseline_save,
    ("baseline", "show"): _baseline_show,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one seedbot command and return its exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # --help, --version and usage errors (code 2)
        return int(exit_request.code or 0)

    setup_logging(quiet=getattr(args, "quiet", False), verbose=getattr(args, "verbose", False))
    key = ("baseline", args.baseline_command) if args.command == "baseline" else args.command
    try:
        return HANDLERS[key](args)
    except SeedbotError as error:
        print(f"seedbot: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("seedbot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # noqa: BLE001 - a crash must not read as exit code 1, which means regression
        traceback.print_exc()
        print(
            f"seedbot: error: seedbot failed unexpectedly (exit code {EXIT_INTERNAL_ERROR}); "
            "the traceback above shows where, please report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR
