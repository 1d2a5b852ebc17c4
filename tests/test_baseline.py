"""Baseline layout, validation, pool merging and the local store (unit tier: no torch)."""

from __future__ import annotations

import copy
import json
import logging
import math
from pathlib import Path

import pytest

from seedbot.baseline import (
    SCHEMA_VERSION,
    Baseline,
    BaselineRun,
    LocalBaselineStore,
    baseline_from_dict,
    baseline_to_dict,
    merge_run,
)
from seedbot.errors import BaselineError
from seedbot.scorecard import Scorecard, SweepResult

PROVENANCE = {
    "python": "3.12.3",
    "torch": "2.13.0",
    "transformers": "5.1.0",
    "peft": "0.21.0",
    "device": "cpu",
    "cuda": None,
    "cpu_capability": "AVX512",
}


def make_card(seed: int, accuracy: float | None = 0.9, **overrides) -> Scorecard:
    fields = dict(
        seed=seed,
        status="ok" if accuracy is not None else "failed",
        metrics={"accuracy": accuracy} if accuracy is not None else {},
        duration_s=10.0,
        config_hash="c" * 64,
        dataset_hash="d" * 64,
        provenance=PROVENANCE,
        error=None if accuracy is not None else "RuntimeError: boom",
    )
    fields.update(overrides)
    return Scorecard(**fields)


def make_run(commit: str = "a" * 40, *, scores=(0.90, 0.91, 0.92), **overrides) -> BaselineRun:
    fields = dict(
        commit=commit,
        created_at="2026-01-02T03:04:05Z",
        config_hash="c" * 64,
        dataset_hash="d" * 64,
        provenance=PROVENANCE,
        scorecards=tuple(make_card(seed, score) for seed, score in enumerate(scores)),
    )
    fields.update(overrides)
    return BaselineRun(**fields)


def make_raw(**top_overrides) -> dict:
    baseline = Baseline(config_name="sst2", pool=(make_run("b" * 40), make_run()), history=(make_run("0" * 40),))
    raw = baseline_to_dict(baseline)
    raw.update(top_overrides)
    return raw


# --- layout and round trip -------------------------------------------------------------


def test_round_trip_keeps_everything():
    baseline = Baseline(
        config_name="sst2",
        pool=(make_run("b" * 40, scores=(0.9, None, 0.8)), make_run()),
        history=(make_run("0" * 40, provenance={**PROVENANCE, "torch": "2.12.0"}),),
    )

    raw = json.loads(json.dumps(baseline_to_dict(baseline)))

    assert raw["schema_version"] == SCHEMA_VERSION
    assert baseline_from_dict(raw, source="test") == baseline


def test_from_sweep_copies_hashes_and_scorecards():
    cards = (make_card(0, 0.9), make_card(1, None))
    sweep = SweepResult(
        config_name="sst2",
        config_hash="c" * 64,
        dataset_hash="d" * 64,
        scorecards=cards,
        provenance=PROVENANCE,
        commit="f" * 40,
    )

    run = BaselineRun.from_sweep(sweep, created_at="2026-01-02T03:04:05Z")

    assert run.commit == "f" * 40
    assert run.created_at == "2026-01-02T03:04:05Z"
    assert (run.config_hash, run.dataset_hash) == ("c" * 64, "d" * 64)
    assert run.scorecards == cards
    assert dict(run.provenance) == PROVENANCE


def test_scores_cover_ok_seeds_of_whole_pool():
    baseline = Baseline(
        config_name="sst2",
        pool=(make_run(scores=(0.5, None)), make_run(scores=(0.7, 0.8))),
        history=(make_run(scores=(0.1,)),),
    )

    assert baseline.scores("accuracy") == {(0, 0): 0.5, (1, 0): 0.7, (1, 1): 0.8}
    assert baseline.latest_scores("accuracy") == {0: 0.5}
    assert baseline.scores("macro_f1") == {}


def test_empty_pool_rejected():
    with pytest.raises(BaselineError, match="pool is empty"):
        Baseline(config_name="sst2", pool=())


# --- validation ----------------------------------------------------------------------


def _drop(path: tuple, raw: dict) -> dict:
    raw = copy.deepcopy(raw)
    target = raw
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return raw


def _set(path: tuple, value, raw: dict) -> dict:
    raw = copy.deepcopy(raw)
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda raw: _drop(("config_name",), raw), r"missing keys config_name"),
        (lambda raw: _drop(("pool",), raw), r"missing keys pool"),
        (lambda raw: _drop(("schema_version",), raw), r"missing keys schema_version"),
        (lambda raw: _drop(("pool", 1, "created_at"), raw), r"missing keys pool\[1\]\.created_at"),
        (
            lambda raw: _drop(("history", 0, "dataset_hash"), _drop(("pool", 0, "commit"), raw)),
            r"missing keys pool\[0\]\.commit, history\[0\]\.dataset_hash",
        ),
        (lambda raw: _drop(("pool", 0, "scorecards", 2, "metrics"), raw), r"missing keys pool\[0\]\.scorecards\[2\]\.metrics"),
        (lambda raw: _set(("pool",), {"a": 1}, raw), r"pool must be an array, got an object"),
        (lambda raw: _set(("pool",), [], raw), r"pool is empty"),
        (lambda raw: _set(("pool", 0, "config_hash"), 7, raw), r"pool\[0\]\.config_hash must be a string, got an integer"),
        (lambda raw: _set(("pool", 0, "commit"), ["x"], raw), r"pool\[0\]\.commit must be a string or null, got an array"),
        (lambda raw: _set(("pool", 0, "provenance", "torch"), 2.13, raw), r"pool\[0\]\.provenance\.torch must be a string or null"),
        (lambda raw: _set(("pool", 1), "run", raw), r"pool\[1\] must be an object, got a string"),
        (lambda raw: _set(("pool", 0, "scorecards", 0, "status"), "maybe", raw),
         r"pool\[0\]\.scorecards\[0\]\.status must be ok or failed, got a string 'maybe'"),
        (lambda raw: _set(("pool", 0, "scorecards", 2, "metrics", "accuracy"), math.nan, raw),
         r"pool\[0\]\.scorecards\[2\]\.metrics\.accuracy must be a finite number, got nan"),
        (lambda raw: _set(("history", 0, "scorecards", 1, "metrics", "accuracy"), math.inf, raw),
         r"history\[0\]\.scorecards\[1\]\.metrics\.accuracy must be a finite number, got inf"),
        (lambda raw: _set(("pool", 1, "scorecards", 0, "metrics", "accuracy"), "0.9", raw),
         r"pool\[1\]\.scorecards\[0\]\.metrics\.accuracy must be a finite number, got a string '0\.9'"),
        (lambda raw: _set(("pool", 0, "scorecards", 0, "metrics", "accuracy"), True, raw),
         r"pool\[0\]\.scorecards\[0\]\.metrics\.accuracy must be a finite number, got a boolean True"),
        (lambda raw: _set(("pool", 0, "scorecards", 1, "seed"), -5, raw),
         r"pool\[0\]\.scorecards\[1\]\.seed must be a non-negative integer, got -5"),
        (lambda raw: _set(("pool", 0, "scorecards", 1, "seed"), "3", raw),
         r"pool\[0\]\.scorecards\[1\]\.seed must be a non-negative integer, got a string '3'"),
        (lambda raw: _set(("pool", 0, "scorecards", 1, "seed"), False, raw),
         r"pool\[0\]\.scorecards\[1\]\.seed must be a non-negative integer, got a boolean False"),
        (lambda raw: _set(("pool", 0, "scorecards", 1, "duration_s"), -1.0, raw),
         r"pool\[0\]\.scorecards\[1\]\.duration_s must be a finite number >= 0, got -1\.0"),
        (lambda raw: _set(("pool", 0, "scorecards", 1, "metrics"), [0.9], raw),
         r"pool\[0\]\.scorecards\[1\]\.metrics must be an object, got an array"),
        (lambda raw: _set(("schema_version",), True, raw), r"schema_version must be an integer, got a boolean"),
        (lambda raw: _set(("schema_version",), 0, raw), r"schema_version must be 1 or more, got 0"),
    ],
)
def test_from_dict_rejects_invalid(edit, match):
    with pytest.raises(BaselineError, match=match) as raised:
        baseline_from_dict(edit(make_raw()), source="baselines/sst2.json")

    assert "baselines/sst2.json" in str(raised.value)
    assert "seedbot baseline save" in str(raised.value)


def test_from_dict_rejects_top_level_array():
    with pytest.raises(BaselineError, match="expected a JSON object, got an array"):
        baseline_from_dict([], source="sst2.json")


def test_newer_schema_asks_to_upgrade():
    with pytest.raises(BaselineError, match=r"schema_version 2 is newer .* upgrade seedbot"):
        baseline_from_dict(make_raw(schema_version=SCHEMA_VERSION + 1, pool="not even a list"), source="sst2.json")


def test_unknown_keys_warn_with_paths(caplog):
    raw = make_raw(owner="team-a")
    raw["pool"][0]["labels"] = ["x"]
    raw["pool"][0]["scorecards"][1]["gpu_seconds"] = 3

    with caplog.at_level(logging.WARNING, logger="seedbot"):
        baseline = baseline_from_dict(raw, source="sst2.json")

    assert baseline.config_name == "sst2"
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "sst2.json" in warnings[0]
    assert "owner" in warnings[0]
    assert "pool[0].labels" in warnings[0]
    assert "pool[0].scorecards[1].gpu_seconds" in warnings[0]


def test_history_is_optional():
    raw = make_raw()
    del raw["history"]

    assert baseline_from_dict(raw, source="sst2.json").history == ()


# --- merging -------------------------------------------------------------------------


def test_merge_into_nothing_starts_pool():
    run = make_run()

    merged = merge_run(None, run, config_name="sst2")

    assert merged == Baseline(config_name="sst2", pool=(run,), history=())


def test_merge_same_regime_grows_pool_most_recent_first():
    first, second = make_run("1" * 40), make_run("2" * 40)

    merged = merge_run(merge_run(None, first, config_name="sst2"), second, config_name="sst2")

    assert merged.pool == (second, first)
    assert merged.history == ()


@pytest.mark.parametrize(
    "changed",
    [
        {"provenance": {**PROVENANCE, "torch": "2.14.1"}},
        {"provenance": {**PROVENANCE, "device": "NVIDIA H100"}},
        {"provenance": {**PROVENANCE, "cpu_capability": "AVX2"}},
        {"config_hash": "e" * 64},
        {"dataset_hash": "e" * 64},
    ],
)
def test_merge_regime_change_starts_new_pool(changed):
    old = merge_run(merge_run(None, make_run("1" * 40), config_name="sst2"), make_run("2" * 40), config_name="sst2")
    run = make_run("3" * 40, **changed)

    merged = merge_run(old, run, config_name="sst2")

    assert merged.pool == (run,)
    assert merged.history == old.pool


def test_merge_ignores_python_version():
    old = merge_run(None, make_run("1" * 40), config_name="sst2")
    run = make_run("2" * 40, provenance={**PROVENANCE, "python": "3.13.1"})

    assert merge_run(old, run, config_name="sst2").pool == (run, old.latest)


def test_merge_new_pool_for_accepted_improvement():
    old = merge_run(None, make_run("1" * 40), config_name="sst2")
    run = make_run("2" * 40)

    merged = merge_run(old, run, config_name="sst2", new_pool=True)

    assert merged.pool == (run,)
    assert merged.history == old.pool


def test_merge_pool_overflow_moves_to_history():
    runs = [make_run(str(index) * 40) for index in range(5)]
    baseline = None
    for run in runs:
        baseline = merge_run(baseline, run, config_name="sst2", pool_max=3)

    assert baseline.pool == (runs[4], runs[3], runs[2])
    assert baseline.history == (runs[1], runs[0])


def test_merge_history_is_bounded_most_recent_first():
    baseline = None
    runs = []
    for index in range(6):
        run = make_run(str(index) * 40, config_hash=str(index) * 64)  # every run is a new regime
        runs.append(run)
        baseline = merge_run(baseline, run, config_name="sst2", history_max=3)

    assert baseline.pool == (runs[5],)
    assert baseline.history == (runs[4], runs[3], runs[2])


def test_merge_same_sweep_twice_replaces_run(caplog):
    first = make_run("1" * 40)
    saved_again = make_run("1" * 40, created_at="2026-01-03T00:00:00Z")
    baseline = merge_run(merge_run(None, make_run("0" * 40), config_name="sst2"), first, config_name="sst2")

    with caplog.at_level(logging.WARNING, logger="seedbot"):
        merged = merge_run(baseline, saved_again, config_name="sst2")

    assert merged.pool == (saved_again, baseline.pool[1])
    assert merged.history == ()
    assert "replaces that run" in caplog.text


@pytest.mark.parametrize(
    "changed",
    [
        {"commit": "2" * 40},
        {"scorecards": tuple(make_card(seed, 0.9) for seed in (0, 1, 3))},
        {"scorecards": tuple(make_card(seed, 0.9) for seed in (0, 1))},
    ],
)
def test_merge_other_sweep_joins_pool(changed):
    first = make_run("1" * 40)

    merged = merge_run(merge_run(None, first, config_name="sst2"), make_run(**{"commit": "1" * 40, **changed}),
                       config_name="sst2")

    assert len(merged.pool) == 2


def test_store_save_same_sweep_twice_keeps_one_run(tmp_path):
    store = LocalBaselineStore(tmp_path)
    store.save("sst2", make_run("1" * 40))

    saved = store.save("sst2", make_run("1" * 40, created_at="2026-01-03T00:00:00Z"))

    assert len(saved.pool) == 1
    assert len(store.load("sst2").pool) == 1


def test_merge_is_pure():
    old = merge_run(None, make_run("1" * 40), config_name="sst2")
    snapshot = baseline_to_dict(old)

    merge_run(old, make_run("2" * 40), config_name="sst2")
    merge_run(old, make_run("3" * 40), config_name="sst2", new_pool=True)

    assert baseline_to_dict(old) == snapshot


# --- the local store -----------------------------------------------------------------


def test_store_load_absent_returns_none(tmp_path):
    assert LocalBaselineStore(tmp_path / "missing").load("sst2") is None


def test_store_save_then_load(tmp_path):
    store = LocalBaselineStore(tmp_path / "nested" / "baselines")
    first, second = make_run("1" * 40), make_run("2" * 40)

    store.save("sst2", first)
    saved = store.save("sst2", second)

    assert saved.pool == (second, first)
    assert store.load("sst2") == saved
    assert json.loads((tmp_path / "nested" / "baselines" / "sst2.json").read_text())["config_name"] == "sst2"


def test_store_save_leaves_no_temporary_files(tmp_path):
    store = LocalBaselineStore(tmp_path)
    for index in range(3):
        store.save("sst2", make_run(str(index) * 40))

    assert sorted(path.name for path in tmp_path.iterdir()) == ["sst2.json"]


def test_store_failed_write_keeps_old_file(tmp_path, monkeypatch):
    store = LocalBaselineStore(tmp_path)
    store.save("sst2", make_run("1" * 40))
    before = (tmp_path / "sst2.json").read_text()

    def fail_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr("seedbot.files.os.replace", fail_replace)
    with pytest.raises(OSError, match="disk full"):
        store.save("sst2", make_run("2" * 40))

    assert (tmp_path / "sst2.json").read_text() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sst2.json"]


def test_store_invalid_json_names_file_and_fix(tmp_path):
    path = tmp_path / "sst2.json"
    path.write_text('{"schema_version": 1,')
    store = LocalBaselineStore(tmp_path)

    with pytest.raises(BaselineError, match=r"sst2\.json: invalid JSON .*line 1.*seedbot baseline save"):
        store.load("sst2")


def test_store_never_overwrites_unparsable_file(tmp_path):
    path = tmp_path / "sst2.json"
    path.write_text("not json")
    store = LocalBaselineStore(tmp_path)

    with pytest.raises(BaselineError, match="invalid JSON"):
        store.save("sst2", make_run())

    assert path.read_text() == "not json"


def test_store_rejects_file_of_other_config(tmp_path):
    (tmp_path / "sst2.json").write_text(json.dumps(make_raw(config_name="other")))

    with pytest.raises(BaselineError, match="contains config_name 'other', expected 'sst2'"):
        LocalBaselineStore(tmp_path).load("sst2")


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "with space", "a\\b", "x" * 129, "naïve"])
def test_store_rejects_unsafe_config_names(tmp_path, name):
    store = LocalBaselineStore(tmp_path)

    with pytest.raises(BaselineError, match="invalid as a baseline file name"):
        store.save(name, make_run())
    with pytest.raises(BaselineError, match="invalid as a baseline file name"):
        store.load(name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["sst2", "sst2-lora_r8.v2", "A", "x" * 128])
def test_store_accepts_safe_config_names(tmp_path, name):
    LocalBaselineStore(tmp_path).save(name, make_run())

    assert (tmp_path / f"{name}.json").is_file()


def test_store_default_directory():
    assert LocalBaselineStore().directory == Path(".seedbot/baselines")
