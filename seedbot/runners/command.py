"""The command runner: the user's own training script, run once per seed.

`runner.command` is split like a shell would (shlex) and run without a shell,
after `{seed}` and `{output_dir}` in each argument are replaced. The script
also gets SEEDBOT_SEED and SEEDBOT_OUTPUT_DIR in its environment, plus
`runner.env`, and must write `{output_dir}/metrics.json`: one flat JSON object
of metric name -> number. Its stdout and stderr go to `stdout.log` and
`stderr.log` in the same directory.
"""

from __future__ import annotations

import json
import numbers
import os
import shlex
import signal
import subprocess
from collections import deque
from pathlib import Path
from typing import Any, Mapping

from seedbot.config import Config
from seedbot.errors import ConfigError, SeedbotError
from seedbot.evaluation import check_requested
from seedbot.log import logger

STDERR_TAIL_LINES = 10


class CommandFailed(SeedbotError):
    """The training command exited non-zero, timed out, or wrote no usable metrics.json."""


class CommandRunner:
    """Runner for `runner.kind: command`."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.arguments: list[str] = []
        self.working_dir = Path.cwd()
        self.extra: dict[str, Any] = {}

    def prepare(self, config: Config) -> None:
        """Split the command once and pick the working directory (the config file's directory)."""
        if not config.runner.command:
            raise ConfigError("runner.command", "required when runner.kind is command, e.g. python train.py --seed {seed} --output {output_dir}")
        try:
            self.arguments = shlex.split(config.runner.command)
        except ValueError as exc:
            raise ConfigError("runner.command", f"cannot split {config.runner.command!r}: {exc}") from exc
        if not self.arguments:
            raise ConfigError("runner.command", "is empty; give the training command to run per seed")
        self.config = config
        self.working_dir = config.source.parent if config.source is not None else Path.cwd()

    def run_seed(self, seed: int, output_dir: Path, progress: Any) -> Mapping[str, float]:
        """Run the command for `seed` and return the metrics it wrote."""
        if self.config is None:
            raise RuntimeError("CommandRunner.run_seed called before prepare(config)")
        output_dir = Path(output_dir).resolve()
        output_dir.mkdir(parents=True, exist_ok=True)
        metrics_path = output_dir / "metrics.json"
        metrics_path.unlink(missing_ok=True)  # a file left by an earlier sweep must not pass for this one

        arguments = [
            argument.replace("{seed}", str(seed)).replace("{output_dir}", str(output_dir)) for argument in self.arguments
        ]
        environment = {**os.environ, **self.config.runner.env, "SEEDBOT_SEED": str(seed), "SEEDBOT_OUTPUT_DIR": str(output_dir)}
        stderr_path = output_dir / "stderr.log"
        logger.debug("seed %d: running %s in %s", seed, shlex.join(arguments), self.working_dir)

        returncode = _run(arguments, environment, self.working_dir, output_dir / "stdout.log", stderr_path, self.config.runner.timeout_s)
        if returncode is None:
            raise CommandFailed(
                f"command timed out after {self.config.runner.timeout_s:g} s (runner.timeout_s) and was killed"
                + _stderr_tail(stderr_path)
            )
        if returncode != 0:
            raise CommandFailed(f"command exited with code {returncode}" + _stderr_tail(stderr_path))

        metrics = read_metrics(metrics_path)
        check_requested(metrics, self.config.metrics.compute, str(metrics_path))
        return metrics


def _run(
    arguments: list[str], environment: dict[str, str], cwd: Path, stdout_path: Path, stderr_path: Path, timeout_s: float | None
) -> int | None:
    """Run the command; return its exit code, or None when it timed out and was killed."""
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        try:
            # A new session gives the command its own process group, so a timeout
            # also kills the workers it started (torchrun, a shell pipeline, ...).
            process = subprocess.Popen(arguments, cwd=cwd, env=environment, stdout=stdout, stderr=stderr, start_new_session=True)
        except OSError as exc:
            raise CommandFailed(f"cannot start {arguments[0]!r} ({exc.strerror}); check runner.command and PATH") from exc
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return None
        except BaseException:
            _kill_group(process)
            raise


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    process.wait()


def _stderr_tail(path: Path) -> str:
    if not path.is_file():
        return ""
    with path.open(encoding="utf-8", errors="replace") as handle:
        lines = deque((line.rstrip() for line in handle if line.strip()), maxlen=STDERR_TAIL_LINES)
    if not lines:
        return "; stderr was empty"
    return f"; last lines of stderr ({path}):\n" + "\n".join(lines)


def read_metrics(path: Path) -> dict[str, float]:
    """Read metrics.json: a flat JSON object of metric name -> number."""
    if not path.is_file():
        raise CommandFailed(f"command exited with code 0 but wrote no {path}; write a JSON object of metric name -> number there")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CommandFailed(f"{path}: invalid JSON ({exc}); write a JSON object of metric name -> number") from exc
    if not isinstance(raw, dict):
        raise CommandFailed(f"{path}: expected a JSON object of metric name -> number, got {type(raw).__name__}")

    metrics: dict[str, float] = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise CommandFailed(f"{path}: metric {name!r} is {value!r}; every value must be a number")
        metrics[name] = float(value)
    # NaN and inf pass through on purpose: run_sweep records them as a failed seed.
    return metrics
