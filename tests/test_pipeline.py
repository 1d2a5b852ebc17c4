"""The run path: sweep -> baseline -> verdict -> comment -> result.json, with an in-process runner."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping

import pytest

from seedbot import pipeline
from seedbot.baseline import LocalBaselineStore
from seedbot.config import Config, DecisionConfig, config_hash, parse_config
from seedbot.errors import SeedbotError, TemplateError
from seedbot.report import ReportContext, comment_marker
from seedbot.sweep import run_sweep
from seedbot.verdict import Verdict


class ScriptedRunner:
    """A Runner whose accuracy is 0.9 + shift plus a fixed per-seed offset of at most 0.004.

    Seeds in `fail` raise, as an out-of-memory seed would.
    """

    def __init__(self, shift: float = 0.0, fail: tuple[int, ...] = ()) -> None:
        self.shift = shift
        self.fail = set(fail)
        self.seeds_run: list[int] = []

    def prepare(self, config: Config) -> None:
        pass

    def run_seed(self, seed: int, output_dir: Path, progress: Any) -> Mapping[str, float]:
        self.seeds_run.append(seed)
        if seed in self.fail:
            raise RuntimeError("CUDA out of memory")
        accuracy = 0.9 + self.shift + 0.004 * (((seed * 7919) % 11) - 5) / 5
        return {"accuracy": accuracy, "macro_f1": accuracy - 0.01, "eval_loss": 0.3 - self.shift}


@pytest.fixture
def make_config(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"text": "good", "label": 1}\n{"text": "bad", "label": 0}\n')
    (tmp_path / "eval.jsonl").write_text('{"text": "fine", "label": 1}\n')

    def make(**sections: Any) -> Config:
        raw = {
            "name": "pipeline-test",
            "model": {"name_or_path": "org/unused"},
            "data": {"train": "train.jsonl", "eval": "eval.jsonl"},
            **sections,
        }
        return parse_config(raw, base_dir=tmp_path)

    return make


@pytest.fixture
def store(tmp_path):
    return LocalBaselineStore(tmp_path / "baselines")


def save_reference(config: Config, store: LocalBaselineStore, output_dir: Path) -> None:
    sweep = run_sweep(config, output_dir=output_dir, runner=ScriptedRunner())
    pipeline.save_baseline(config, sweep, store)


def test_run_without_baseline(make_config, store, tmp_path):
    config = make_config()

    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=ScriptedRunner())

    assert outcome.comparison.verdict is Verdict.NO_BASELINE
    assert outcome.exit_code == 3
    assert outcome.baseline is None
    assert outcome.comment_path.read_text(encoding="utf-8") == outcome.comment
    assert comment_marker("pipeline-test") in outcome.comment


@pytest.mark.parametrize(
    ("source", "match"),
    [("{{ view.marker }} {% for %}\n", r"line 1: .*fix the template syntax"), (None, r"cannot be read")],
)
def test_bad_template_fails_before_sweep(make_config, store, tmp_path, source, match):
    template = tmp_path / "comment.md.j2"
    if source is not None:
        template.write_text(source, encoding="utf-8")
    runner = ScriptedRunner()

    with pytest.raises(TemplateError, match=match):
        pipeline.run(make_config(), store=store, output_dir=tmp_path / "out", runner=runner, template_path=template)

    assert runner.seeds_run == []


def test_result_json_layout(make_config, store, tmp_path):
    config = make_config()
    save_reference(config, store, tmp_path / "base")

    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=ScriptedRunner(shift=-0.05))

    result = json.loads(outcome.result_path.read_text(encoding="utf-8"))
    assert outcome.result_path == tmp_path / "out" / "result.json"
    assert result["schema_version"] == pipeline.RESULT_SCHEMA_VERSION
    assert result["config_name"] == "pipeline-test"
    assert result["verdict"] == "regressed"
    assert result["exit_code"] == 1
    assert result["reason"] == outcome.comparison.reason
    assert result["comparison"]["verdict"] == "regressed"
    assert result["sweep"]["config_hash"] == config_hash(config)
    assert result["baseline"]["config_name"] == "pipeline-test"
    assert not list((tmp_path / "out").glob(".*.tmp"))


@pytest.mark.parametrize(
    ("shift", "verdict", "exit_code"),
    [(-0.05, Verdict.REGRESSED, 1), (0.05, Verdict.IMPROVED, 0), (0.0, Verdict.NO_CHANGE, 0)],
)
def test_run_verdict_and_exit_code(make_config, store, tmp_path, shift, verdict, exit_code):
    config = make_config()
    save_reference(config, store, tmp_path / "base")

    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=ScriptedRunner(shift=shift))

    assert outcome.comparison.verdict is verdict
    assert outcome.exit_code == exit_code


@pytest.mark.parametrize("shift", [0.05, 0.0])
def test_failed_seeds_below_minimum_never_pass(make_config, store, tmp_path, shift):
    config = make_config()
    save_reference(config, store, tmp_path / "base")

    # 3 of 5 seeds fail, so 2 remain, below decision.min_seeds = 3.
    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=ScriptedRunner(shift=shift, fail=(0, 1, 2)))

    assert outcome.comparison.verdict is Verdict.INCONCLUSIVE
    assert outcome.exit_code == 3
    assert "CUDA out of memory" in outcome.comment


def test_failed_seed_is_reported(make_config, store, tmp_path):
    config = make_config()
    save_reference(config, store, tmp_path / "base")

    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=ScriptedRunner(shift=0.05, fail=(3,)))

    assert [card.seed for card in outcome.sweep.failed] == [3]
    assert any("seeds failed" in note for note in outcome.comparison.notes)
    assert "CUDA out of memory" in outcome.comment


def test_decision_argument_overrides_config(make_config, store, tmp_path):
    config = make_config()
    save_reference(config, store, tmp_path / "base")
    strict = DecisionConfig(min_seeds=6)

    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=ScriptedRunner(shift=-0.05), decision=strict)

    assert outcome.comparison.decision == strict
    assert outcome.comparison.verdict is Verdict.INCONCLUSIVE


def test_adaptive_seeds_stop_early(make_config, store, tmp_path):
    config = make_config(seeds={"min": 3, "max": 6})
    save_reference(config, store, tmp_path / "base")
    runner = ScriptedRunner(shift=-0.05)

    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=runner)

    assert runner.seeds_run == [0, 1, 2]
    assert outcome.sweep.stop_reason is not None
    assert outcome.sweep.extra["adaptive"] == {"looks": 2, "stopped_at_look": 1}
    assert outcome.comparison.level == pytest.approx(0.0294, abs=1e-4)
    assert outcome.comparison.verdict is Verdict.REGRESSED


def test_adaptive_without_baseline_runs_max(make_config, store, tmp_path):
    config = make_config(seeds={"min": 3, "max": 6})
    runner = ScriptedRunner(shift=-0.05)

    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=runner)

    assert runner.seeds_run == [0, 1, 2, 3, 4, 5]
    assert outcome.sweep.stop_reason is None


def test_seed_override_disables_adaptive(make_config, store, tmp_path):
    config = make_config(seeds={"min": 3, "max": 6})
    save_reference(config, store, tmp_path / "base")
    runner = ScriptedRunner(shift=-0.05)

    pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=runner, seeds=(0, 1, 2, 3))

    assert runner.seeds_run == [0, 1, 2, 3]


def test_render_result_matches_comment(make_config, store, tmp_path):
    config = make_config()
    save_reference(config, store, tmp_path / "base")
    context = ReportContext(commit="0123456789abcdef", base_ref="main", head_ref="feature", seeds_override=5)
    outcome = pipeline.run(config, store=store, output_dir=tmp_path / "out", runner=ScriptedRunner(shift=-0.05), context=context)

    assert pipeline.render_result(outcome.result_path) == outcome.comment


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"invalid JSON at line 1"),
        ('{"verdict": "improved"}', r"not a seedbot result file \(no schema_version\)"),
        ('{"schema_version": 99}', r"result schema_version 99 is not supported"),
        ('{"schema_version": 1, "sweep": {}}', r"missing keys baseline, metrics, comparison, context"),
        ('{"schema_version": 1, "sweep": {}, "baseline": null, "metrics": {}, "comparison": {}, "context": {}}', r"result\.json: sweep result: missing keys config_name"),
        ('{"schema_version": 1, "sweep": [], "baseline": null, "metrics": {}, "comparison": {}, "context": {}}', r"result\.json: "),
    ],
)
def test_render_result_rejects_bad_file(tmp_path, text, message):
    path = tmp_path / "result.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(SeedbotError, match=message):
        pipeline.render_result(path)


def test_save_baseline_rejects_all_failed(make_config, store, tmp_path):
    config = make_config()
    sweep = run_sweep(config, output_dir=tmp_path / "base", runner=ScriptedRunner(fail=(0, 1, 2, 3, 4)))

    with pytest.raises(SeedbotError, match=r"every seed of the sweep failed \(5 of 5\)"):
        pipeline.save_baseline(config, sweep, store)
    assert store.load(config.name) is None


def test_save_baseline_rejects_other_config(make_config, store, tmp_path):
    sweep = run_sweep(make_config(), output_dir=tmp_path / "base", runner=ScriptedRunner())

    with pytest.raises(SeedbotError, match=r"the sweep is of config 'pipeline-test' but the config is named 'other'"):
        pipeline.save_baseline(make_config(name="other"), sweep, store)


def test_save_baseline_new_pool(make_config, store, tmp_path):
    config = make_config()
    sweep = run_sweep(config, output_dir=tmp_path / "base", runner=ScriptedRunner())

    pipeline.save_baseline(config, sweep, store)
    # Another commit, because saving the same sweep again replaces its run.
    pipeline.save_baseline(config, dataclasses.replace(sweep, commit="b" * 40), store)
    fresh = pipeline.save_baseline(config, sweep, store, new_pool=True)

    assert len(fresh.pool) == 1
    assert len(fresh.history) == 2


def test_save_baseline_twice_keeps_one_run(make_config, store, tmp_path):
    config = make_config()
    sweep = run_sweep(config, output_dir=tmp_path / "base", runner=ScriptedRunner())

    pipeline.save_baseline(config, sweep, store)
    again = pipeline.save_baseline(config, sweep, store)

    assert len(again.pool) == 1
    assert len(again.history) == 0
