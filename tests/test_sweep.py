"""The seed sweep: determinism, failed and NaN seeds, early stop, scorecard files, progress output."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Callable, Mapping

import pytest
import torch
from safetensors.torch import load_file

from seedbot.config import Config, config_hash
from seedbot.data import dataset_hash
from seedbot.errors import ConfigError, SeedbotError
from seedbot.progress import ActionsProgress, QuietProgress, SilentProgress, TerminalProgress, format_duration
from seedbot.runners.builtin import BuiltinRunner
from seedbot.scorecard import Scorecard, SweepResult, read_results, write_results, write_scorecard
from seedbot.sweep import run_sweep


class ScriptedRunner:
    """A runner whose per-seed outcome is a table: metrics to return, or an exception to raise."""

    def __init__(self, outcomes: Mapping[int, Mapping[str, float] | BaseException]) -> None:
        self.outcomes = outcomes
        self.prepared = 0
        self.ran: list[int] = []

    def prepare(self, config: Config) -> None:
        self.prepared += 1

    def run_seed(self, seed: int, output_dir: Path, progress: object) -> Mapping[str, float]:
        self.ran.append(seed)
        outcome = self.outcomes[seed]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def make_card(seed: int = 3, **overrides: object) -> Scorecard:
    fields: dict = {
        "seed": seed,
        "status": "ok",
        "metrics": {"accuracy": 0.91, "eval_loss": 0.25},
        "duration_s": 12.5,
        "config_hash": "c" * 64,
        "dataset_hash": "d" * 64,
        "provenance": {"torch": "2.13.0", "cuda": None},
    }
    fields.update(overrides)
    return Scorecard(**fields)


# The builtin runner on the tiny model.


def test_same_seed_same_scores_and_adapter(make_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = BuiltinRunner()
    runner.prepare(make_config())

    first = runner.run_seed(0, tmp_path / "first", SilentProgress())
    runner.run_seed(1, tmp_path / "other", SilentProgress())  # moves every RNG on
    second = runner.run_seed(0, tmp_path / "second", SilentProgress())

    assert first == second
    first_adapter = load_file(tmp_path / "first" / "adapter" / "adapter_model.safetensors")
    second_adapter = load_file(tmp_path / "second" / "adapter" / "adapter_model.safetensors")
    assert first_adapter.keys() == second_adapter.keys()
    assert any("classifier" in name for name in first_adapter)
    for name, tensor in first_adapter.items():
        assert torch.equal(tensor, second_adapter[name]), name


def test_tiny_sweep_learns_with_seed_spread(make_config: Callable[..., Config], tmp_path: Path) -> None:
    config = make_config()

    result = run_sweep(config, output_dir=tmp_path)

    assert [card.status for card in result.scorecards] == ["ok", "ok", "ok"]
    accuracies = list(result.scores("accuracy").values())
    assert min(accuracies) > 0.7  # majority class is about 0.5
    assert max(accuracies) - min(accuracies) > 0  # the seed drives the result
    assert len(set(result.scores("eval_loss").values())) == 3
    assert set(result.scorecards[0].metrics) == {"accuracy", "macro_f1", "eval_loss"}
    for card in result.scorecards:
        assert (tmp_path / f"seed-{card.seed}" / "adapter" / "adapter_config.json").is_file()
        assert card.config_hash == config_hash(config)
        assert card.dataset_hash == dataset_hash(config.data)
        assert card.provenance["device"]
        assert card.provenance["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert result.extra["head_modules"] == ["classifier"]
    assert read_results(tmp_path / "results.json") == result


def test_sweep_seed_override(make_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = ScriptedRunner({7: {"accuracy": 0.5}, 9: {"accuracy": 0.6}})

    result = run_sweep(make_config(), output_dir=tmp_path, seeds=[9, 7], runner=runner)

    assert runner.ran == [9, 7]
    assert runner.prepared == 1
    assert result.extra["seeds"] == [9, 7]
    assert sorted(path.name for path in tmp_path.glob("seed-*.json")) == ["seed-7.json", "seed-9.json"]


# Failed seeds.


@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        (RuntimeError("boom"), "RuntimeError: boom"),
        (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"), "OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB"),
        (MemoryError(), "MemoryError"),
        (ValueError("first line\n  second line\n"), "ValueError: first line | second line"),
        ({"accuracy": math.nan}, "ValueError: metric accuracy=nan is not finite; the run diverged or its evaluation failed"),
        ({"accuracy": 0.9, "eval_loss": math.inf}, "ValueError: metric eval_loss=inf is not finite"),
    ],
)
def test_failed_seed_recorded_and_sweep_goes_on(
    make_config: Callable[..., Config], tmp_path: Path, outcome: object, error: str
) -> None:
    runner = ScriptedRunner({0: {"accuracy": 0.8}, 1: outcome, 2: {"accuracy": 0.9}})

    result = run_sweep(make_config(), output_dir=tmp_path, runner=runner)

    assert runner.ran == [0, 1, 2]
    assert [card.status for card in result.scorecards] == ["ok", "failed", "ok"]
    failed = result.scorecards[1]
    assert failed.error is not None
    assert failed.error.startswith(error)
    assert failed.metrics == {}
    assert result.scores("accuracy") == {0: 0.8, 2: 0.9}
    on_disk = json.loads((tmp_path / "seed-1.json").read_text())
    assert on_disk["status"] == "failed"
    assert on_disk["error"] == failed.error


def test_crash_keeps_finished_seeds(make_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = ScriptedRunner({0: {"accuracy": 0.8}, 1: {"accuracy": 0.7}, 2: KeyboardInterrupt()})

    with pytest.raises(KeyboardInterrupt):
        run_sweep(make_config(), output_dir=tmp_path, runner=runner)

    saved = read_results(tmp_path / "results.json")
    assert [card.seed for card in saved.scorecards] == [0, 1]


def test_should_stop_ends_sweep_early(make_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = ScriptedRunner({seed: {"accuracy": 0.8} for seed in range(5)})
    seen: list[int] = []

    def stop_after_two(partial: SweepResult) -> str | None:
        seen.append(len(partial.scorecards))
        return "clear after 2 seeds" if len(partial.scorecards) == 2 else None

    result = run_sweep(make_config(seeds=range(5)), output_dir=tmp_path, runner=runner, should_stop=stop_after_two)

    assert seen == [1, 2]
    assert runner.ran == [0, 1]
    assert result.stop_reason == "clear after 2 seeds"
    assert read_results(tmp_path / "results.json").stop_reason == "clear after 2 seeds"


@pytest.mark.parametrize(
    ("seeds", "match"),
    [
        ([], r"seeds: the seed list is empty"),
        ([1, 2, 1], r"seeds: seed 1 is listed twice"),
        ([-1], r"seeds: seeds must be non-negative integers, got -1"),
    ],
)
def test_invalid_seed_lists(make_config: Callable[..., Config], tmp_path: Path, seeds: list[int], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        run_sweep(make_config(), output_dir=tmp_path, seeds=seeds, runner=ScriptedRunner({}))


@pytest.mark.parametrize("output_dir", ["afile", "afile/sweep"])
def test_output_dir_blocked_by_file(make_config: Callable[..., Config], tmp_path: Path, output_dir: str) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    runner = ScriptedRunner({0: {"accuracy": 1}})

    with pytest.raises(SeedbotError, match=r"cannot create the output directory .*afile.*: a file is in the way .*move the file away$"):
        run_sweep(make_config(seeds=[0]), output_dir=tmp_path / output_dir, runner=runner)

    assert runner.ran == []


def test_commit_recorded(make_config: Callable[..., Config], tmp_path: Path) -> None:
    result = run_sweep(make_config(seeds=[0]), output_dir=tmp_path, runner=ScriptedRunner({0: {"accuracy": 1}}), commit="abc123")

    assert result.commit == "abc123"
    assert result.scorecards[0].metrics == {"accuracy": 1.0}


# Scorecard files.


def test_scorecard_round_trip() -> None:
    card = make_card(status="failed", metrics={}, error="RuntimeError: boom")

    assert Scorecard.from_dict(json.loads(json.dumps(card.to_dict()))) == card


def test_results_round_trip(tmp_path: Path) -> None:
    result = SweepResult(
        config_name="demo",
        config_hash="c" * 64,
        dataset_hash="d" * 64,
        scorecards=(make_card(0), make_card(1, status="failed", metrics={}, error="MemoryError")),
        provenance={"torch": "2.13.0"},
        commit="abc",
        stop_reason=None,
        extra={"label_names": ["negative", "positive"]},
    )

    path = write_results(result, tmp_path / "results.json")

    assert read_results(path) == result
    assert json.loads(path.read_text())["schema_version"] == 1


def test_write_scorecard_replaces_atomically(tmp_path: Path) -> None:
    write_scorecard(make_card(metrics={"accuracy": 0.5}), tmp_path)
    path = write_scorecard(make_card(metrics={"accuracy": 0.75}), tmp_path)

    assert path == tmp_path / "seed-3.json"
    assert json.loads(path.read_text())["metrics"] == {"accuracy": 0.75}
    assert [entry.name for entry in tmp_path.iterdir()] == ["seed-3.json"]


def test_failed_write_keeps_previous_file(tmp_path: Path) -> None:
    write_scorecard(make_card(metrics={"accuracy": 0.5}), tmp_path)

    with pytest.raises(TypeError, match="cannot write object"):
        write_scorecard(make_card(provenance={"device": object()}), tmp_path)

    assert json.loads((tmp_path / "seed-3.json").read_text())["metrics"] == {"accuracy": 0.5}
    assert [entry.name for entry in tmp_path.iterdir()] == ["seed-3.json"]


def test_read_results_missing_keys(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": 1, "config_name": "demo", "scorecards": []}))

    with pytest.raises(SeedbotError, match=r"results\.json: sweep result: missing keys config_hash, dataset_hash, provenance"):
        read_results(path)


def test_read_results_unknown_keys_warn(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw = SweepResult(config_name="demo", config_hash="c", dataset_hash="d", scorecards=(), provenance={}).to_dict()
    raw["future_field"] = 1
    path = tmp_path / "results.json"
    path.write_text(json.dumps(raw))

    assert read_results(path).config_name == "demo"
    assert "ignoring unknown keys future_field" in caplog.text


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, r"results file not found: .*results\.json"),
        ("{not json", r"results\.json: invalid JSON at line 1 column 2"),
        ('{"schema_version": 99}', r"schema_version 99 is not supported"),
    ],
)
def test_read_results_errors(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(SeedbotError, match=match):
        read_results(path)


# Progress reporters.


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_terminal_progress_prints_every_tenth() -> None:
    stream, clock = io.StringIO(), FakeClock()
    progress = TerminalProgress(stream, interval_s=1000, clock=clock)

    progress.seed_started(5, 1, 2)
    for step in range(1, 101):
        clock.now = step * 0.5
        progress.step(5, step, 100)
    progress.seed_finished(make_card(5, duration_s=50.0))

    lines = stream.getvalue().splitlines()
    step_lines = [line for line in lines if "step" in line]
    assert len(step_lines) == 10
    assert step_lines[0] == "seed 5 (1/2): step 10/100, 5 s elapsed, ~45 s left for this seed, ~1 min 35 s for the sweep"
    assert lines[0] == "seed 5 (1/2): started"
    assert lines[-1] == "seed 5 (1/2): ok in 50 s: accuracy 0.91, eval_loss 0.25"


def test_terminal_progress_prints_after_interval() -> None:
    stream, clock = io.StringIO(), FakeClock()
    progress = TerminalProgress(stream, interval_s=10, clock=clock)
    progress.seed_started(0, 1, 1)

    clock.now = 11
    progress.step(0, 1, 1000)  # below a tenth, but 11 s since the last line
    clock.now = 12
    progress.step(0, 2, 1000)

    assert stream.getvalue().count("step") == 1


def test_quiet_progress_one_line_per_seed() -> None:
    stream = io.StringIO()
    progress = QuietProgress(stream)

    progress.seed_started(4, 2, 3)
    for step in range(1, 50):
        progress.step(4, step, 50)
    progress.seed_finished(make_card(4, status="failed", metrics={}, error="RuntimeError: boom", duration_s=75))

    assert stream.getvalue() == "seed 4 (2/3): failed after 1 min 15 s: RuntimeError: boom\n"


def test_actions_progress_groups_each_seed(capsys: pytest.CaptureFixture[str]) -> None:
    progress = ActionsProgress(interval_s=1000)

    progress.seed_started(0, 1, 2)
    progress.seed_finished(make_card(0))
    progress.seed_started(1, 2, 2)
    progress.seed_finished(make_card(1))

    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "::group::seed 0 (1/2)"
    assert lines.count("::group::seed 1 (2/2)") == 1
    assert lines.count("::endgroup::") == 2
    assert lines[lines.index("::endgroup::") + 1].startswith("seed 0 (1/2): ok in")


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0 s"), (59.6, "1 min 00 s"), (125, "2 min 05 s"), (3720, "1 h 02 min")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
