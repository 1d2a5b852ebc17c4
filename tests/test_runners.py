"""The command runner with real scripts, and the builtin runner's model handling."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest
from safetensors.torch import load_file

from seedbot.config import Config
from seedbot.errors import ConfigError, SeedbotError
from seedbot.progress import SilentProgress
from seedbot.runners.builtin import BuiltinRunner
from seedbot.runners.command import CommandFailed, CommandRunner
from seedbot.sweep import make_runner, run_sweep

# Each script receives the seed and output directory as arguments; the good
# one also checks the environment that seedbot promises.
SCRIPTS = {
    "good": """
        import json, os, sys
        seed, output_dir = int(sys.argv[1]), sys.argv[2]
        assert os.environ["SEEDBOT_SEED"] == str(seed)
        assert os.environ["SEEDBOT_OUTPUT_DIR"] == output_dir
        team = 1.0 if os.environ["TEAM_FLAG"] == "on" else 0.0
        metrics = {"accuracy": seed / 8, "macro_f1": 0.7, "eval_loss": 0.4, "team": team}
        with open(os.path.join(output_dir, "metrics.json"), "w") as handle:
            json.dump(metrics, handle)
        print("trained seed", seed)
    """,
    "crash": """
        import sys
        print("loading data", file=sys.stderr)
        print("CUDA error: device-side assert triggered", file=sys.stderr)
        sys.exit(3)
    """,
    "silent": """
        print("forgot to write metrics")
    """,
    "slow": """
        import sys, time
        print("starting a long epoch", file=sys.stderr, flush=True)
        time.sleep(30)
    """,
    "invalid_json": """
        import os, sys
        open(os.path.join(sys.argv[2], "metrics.json"), "w").write("{accuracy: 0.9")
    """,
    "text_value": """
        import json, os, sys
        json.dump({"accuracy": "high"}, open(os.path.join(sys.argv[2], "metrics.json"), "w"))
    """,
    "list": """
        import json, os, sys
        json.dump([0.9], open(os.path.join(sys.argv[2], "metrics.json"), "w"))
    """,
    "missing_metric": """
        import json, os, sys
        json.dump({"accuracy": 0.9}, open(os.path.join(sys.argv[2], "metrics.json"), "w"))
    """,
    "nan": """
        import os, sys
        open(os.path.join(sys.argv[2], "metrics.json"), "w").write('{"accuracy": NaN, "macro_f1": 0.5, "eval_loss": 1.0}')
    """,
}


@pytest.fixture
def command_config(make_config: Callable[..., Config], tmp_path: Path) -> Callable[..., Config]:
    """Build a command-runner Config that runs one of SCRIPTS from tmp_path."""

    def factory(script: str, *, timeout_s: float | None = None, seeds: tuple[int, ...] = (0,)) -> Config:
        path = tmp_path / f"{script}.py"
        path.write_text(textwrap.dedent(SCRIPTS[script]), encoding="utf-8")
        command = f"{sys.executable} {path.name} {{seed}} {{output_dir}}"
        runner = {"kind": "command", "command": command, "timeout_s": timeout_s, "env": {"TEAM_FLAG": "on"}}
        return make_config(runner=runner, seeds=seeds, source=tmp_path / ".seedbot.yml")

    return factory


def test_command_runner_reads_metrics(command_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = CommandRunner()
    runner.prepare(command_config("good"))

    metrics = runner.run_seed(4, tmp_path / "out dir" / "seed-4", SilentProgress())

    assert metrics == {"accuracy": 0.5, "macro_f1": 0.7, "eval_loss": 0.4, "team": 1.0}
    assert (tmp_path / "out dir" / "seed-4" / "stdout.log").read_text() == "trained seed 4\n"


@pytest.mark.parametrize(
    ("script", "timeout_s", "match"),
    [
        ("crash", None, r"command exited with code 3; last lines of stderr \(.*stderr\.log\):\nloading data\nCUDA error: device-side assert triggered"),
        ("silent", None, r"command exited with code 0 but wrote no .*metrics\.json"),
        ("slow", 1, r"command timed out after 1 s \(runner\.timeout_s\) and was killed; last lines of stderr .*\nstarting a long epoch"),
        ("invalid_json", None, r"metrics\.json: invalid JSON"),
        ("text_value", None, r"metrics\.json: metric 'accuracy' is 'high'; every value must be a number"),
        ("list", None, r"metrics\.json: expected a JSON object of metric name -> number, got list"),
    ],
)
def test_command_runner_failures(
    command_config: Callable[..., Config], tmp_path: Path, script: str, timeout_s: float | None, match: str
) -> None:
    runner = CommandRunner()
    runner.prepare(command_config(script, timeout_s=timeout_s))

    with pytest.raises(CommandFailed, match=match):
        runner.run_seed(0, tmp_path / "seed-0", SilentProgress())


def test_command_runner_missing_compute_metric(command_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = CommandRunner()
    runner.prepare(command_config("missing_metric"))

    with pytest.raises(ValueError, match=r"metrics\.compute lists macro_f1, eval_loss but .*metrics\.json produced only accuracy"):
        runner.run_seed(0, tmp_path / "seed-0", SilentProgress())


def test_command_runner_ignores_stale_metrics(command_config: Callable[..., Config], tmp_path: Path) -> None:
    seed_dir = tmp_path / "seed-0"
    seed_dir.mkdir()
    (seed_dir / "metrics.json").write_text(json.dumps({"accuracy": 0.9, "macro_f1": 0.9, "eval_loss": 0.1}))
    runner = CommandRunner()
    runner.prepare(command_config("silent"))

    with pytest.raises(CommandFailed, match="wrote no"):
        runner.run_seed(0, seed_dir, SilentProgress())


def test_command_sweep_records_failures(command_config: Callable[..., Config], tmp_path: Path) -> None:
    result = run_sweep(command_config("crash", seeds=(0, 1)), output_dir=tmp_path / "out")

    assert [card.status for card in result.scorecards] == ["failed", "failed"]
    error = result.scorecards[0].error
    assert error == (
        f"CommandFailed: command exited with code 3; last lines of stderr ({tmp_path / 'out' / 'seed-0' / 'stderr.log'}): "
        "| loading data | CUDA error: device-side assert triggered"
    )
    assert result.scorecards[0].provenance["cuda"] is None


def test_command_sweep_nan_metric_fails_seed(command_config: Callable[..., Config], tmp_path: Path) -> None:
    result = run_sweep(command_config("nan"), output_dir=tmp_path / "out")

    assert result.scorecards[0].status == "failed"
    assert result.scorecards[0].error == "ValueError: metric accuracy=nan is not finite; the run diverged or its evaluation failed"


@pytest.mark.parametrize(
    ("runner", "match"),
    [
        ({"kind": "command", "command": None}, r"runner\.command: required when runner\.kind is command"),
        ({"kind": "command", "command": "python 'unclosed"}, r"runner\.command: cannot split"),
        ({"kind": "command", "command": "   "}, r"runner\.command: (required|is empty)"),
    ],
)
def test_command_runner_config_errors(make_config: Callable[..., Config], runner: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        CommandRunner().prepare(make_config(runner=runner))


def test_command_not_found(make_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = CommandRunner()
    runner.prepare(make_config(runner={"kind": "command", "command": "no-such-trainer-binary {seed}"}))

    with pytest.raises(CommandFailed, match=r"cannot start 'no-such-trainer-binary' .*check runner\.command and PATH"):
        runner.run_seed(0, tmp_path / "seed-0", SilentProgress())


def test_make_runner_kinds(make_config: Callable[..., Config]) -> None:
    assert isinstance(make_runner(make_config()), BuiltinRunner)
    assert isinstance(make_runner(make_config(runner={"kind": "command", "command": "x"})), CommandRunner)


# The builtin runner.


def test_builtin_adds_head_to_headless_checkpoint(make_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = BuiltinRunner()
    runner.prepare(make_config(training={"max_steps": 2}))

    runner.run_seed(0, tmp_path, SilentProgress())

    assert runner.head_modules == ("classifier",)
    adapter_config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert sorted(adapter_config["target_modules"]) == ["query", "value"]
    assert adapter_config["task_type"] == "SEQ_CLS"
    tensors = load_file(tmp_path / "adapter" / "adapter_model.safetensors")
    assert any(name.endswith("classifier.weight") for name in tensors)
    assert sum("lora_A" in name for name in tensors) == 4  # query and value in 2 layers


def test_builtin_label_names_recorded(make_config: Callable[..., Config], tmp_path: Path) -> None:
    rows = [{"text": "nice w1", "label": "pos"}, {"text": "sad w2", "label": "neg"}] * 8
    for name in ("train.jsonl", "eval.jsonl"):
        (tmp_path / name).write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = make_config(data={"train": tmp_path / "train.jsonl", "eval": tmp_path / "eval.jsonl"}, training={"max_steps": 2}, seeds=(0,))

    result = run_sweep(config, output_dir=tmp_path / "out")

    assert result.extra["label_names"] == ["neg", "pos"]
    assert result.scorecards[0].status == "ok"


def test_builtin_epochs_set_step_count(make_config: Callable[..., Config]) -> None:
    runner = BuiltinRunner()

    runner.prepare(make_config(training={"max_steps": None, "epochs": 0.5}))

    assert runner.total_steps == 8  # 256 rows / batch 16 = 16 steps per epoch


def test_builtin_missing_model_directory(make_config: Callable[..., Config], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.name_or_path: directory not found: .*no-model"):
        BuiltinRunner().prepare(make_config(model={"name_or_path": str(tmp_path / "no-model")}))


def test_builtin_run_before_prepare(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"run_seed called before prepare"):
        BuiltinRunner().run_seed(0, tmp_path, SilentProgress())


def test_sweep_raises_prepare_errors(make_config: Callable[..., Config], tmp_path: Path) -> None:
    config = make_config(data={"train": tmp_path / "missing.jsonl"})

    with pytest.raises(SeedbotError, match=r"data\.train: file not found"):
        run_sweep(config, output_dir=tmp_path / "out")
