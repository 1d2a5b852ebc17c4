"""`.seedbot.yml`: frozen dataclasses, validated once by `load_config`.

Each field has one small parser in `seedbot.config_fields`. Every error is
a ConfigError that names the dotted field, the bad value and what is
allowed, for example `lora.r: must be a positive integer, got -4`. The JSON Schema in
`seedbot/schema/seedbot.schema.json` describes the same file for editors.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml

from seedbot.config_fields import (
    Parser,
    _alpha,
    _boolean,
    _choice,
    _column,
    _command,
    _device,
    _directions,
    _env,
    _evaluator,
    _fraction,
    _init_lora_weights,
    _integer,
    _metric_names,
    _name,
    _non_negative_number,
    _optional,
    _parse_section,
    _positive_number,
    _reject_unknown_keys,
    _resolve_model_path,
    _seed_list,
    _show,
    _string,
    _suggestion,
    _target_modules,
)
from seedbot.errors import ConfigError
from seedbot.log import logger

Direction = Literal["higher", "lower"]
Rule = Literal["auto", "welch", "paired", "band", "mann-whitney"]


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    name_or_path: str  # local directory or hub id, passed to from_pretrained
    task: Literal["sequence-classification"] = "sequence-classification"
    num_labels: int = 2
    revision: str | None = None
    # name_or_path as written in the file, before `package:` and relative paths resolve.
    # config_hash uses it, so the hash does not depend on where the checkout sits.
    declared_name_or_path: str | None = None


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    train: Path  # resolved against the config file's directory
    eval: Path
    format: Literal["auto", "jsonl", "csv", "tsv"] = "auto"
    text_column: str = "text"
    text_pair_column: str | None = None
    label_column: str = "label"
    max_train_rows: int | None = None
    max_eval_rows: int | None = None


@dataclass(frozen=True, kw_only=True)
class LoraSettings:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    # A tuple names module suffixes. A single string goes to peft unchanged, and peft
    # matches it as a regular expression against full module names (or reads "all-linear").
    target_modules: tuple[str, ...] | str = ("query", "value")
    init_lora_weights: bool | str = True  # peft's names: True, False, "gaussian", "pissa", "olora", ...
    bias: Literal["none", "all", "lora_only"] = "none"


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    max_steps: int | None = 200  # exactly one of max_steps / epochs is set
    epochs: float | None = None
    batch_size: int = 32
    eval_batch_size: int = 128
    learning_rate: float = 1e-3
    max_length: int = 128
    weight_decay: float = 0.0
    warmup_ratio: float = 0.0
    device: str = "auto"  # "auto" picks cuda when available, else cpu


@dataclass(frozen=True, kw_only=True)
class RunnerConfig:
    kind: Literal["builtin", "command"] = "builtin"
    command: str | None = None  # with {seed} and {output_dir} placeholders; required for kind=command
    timeout_s: float | None = None  # per seed, command runner only
    env: Mapping[str, str] = field(default_factory=dict)  # added to the command's environment


@dataclass(frozen=True, kw_only=True)
class SeedsConfig:
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # the explicit list that runs (count N gives 0..N-1)
    adaptive_min: int | None = None  # `seeds: {min: 5, max: 10}`: run seeds[:min] first
    adaptive_max: int | None = None  # then up to seeds[:max]; seeds has adaptive_max entries

    @property
    def adaptive(self) -> bool:
        return self.adaptive_min is not None


@dataclass(frozen=True, kw_only=True)
class MetricsConfig:
    compute: tuple[str, ...] = ("accuracy", "macro_f1", "eval_loss")  # built-in names and custom ones
    gate: tuple[str, ...] = ("accuracy",)  # subset of compute
    direction: Mapping[str, Direction] = field(default_factory=dict)  # per metric; see direction_of
    evaluator: str | None = None  # "module:function" returning a dict of extra metrics

    def direction_of(self, metric: str) -> Direction:
        """Return the configured direction, defaulting to lower for *loss* metrics, else higher."""
        if metric in self.direction:
            return self.direction[metric]
        return "lower" if "loss" in metric else "higher"


@dataclass(frozen=True, kw_only=True)
class DecisionConfig:
    rule: Rule = "auto"  # auto: paired when both arms ran the same seed list, else welch
    alpha: float = 0.05
    min_effect: float = 0.0  # practical margin, in metric units
    band_k: float = 1.5
    min_seeds: int = 3
    exclude_diverged: bool = False
    fail_on_environment_change: bool = False


@dataclass(frozen=True, kw_only=True)
class Config:
    name: str  # identifies the baseline and the PR comment
    model: ModelConfig
    data: DataConfig
    lora: LoraSettings = field(default_factory=LoraSettings)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    seeds: SeedsConfig = field(default_factory=SeedsConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    source: Path | None = None  # the file it was loaded from, if any


BUILTIN_METRICS = ("accuracy", "macro_f1", "eval_loss")
FORMAT_BY_EXTENSION: Mapping[str, Literal["jsonl", "csv", "tsv"]] = {".jsonl": "jsonl", ".csv": "csv", ".tsv": "tsv"}


# ---------------------------------------------------------------- sections


def _parse_model(value: Any, base_dir: Path) -> ModelConfig:
    parsers: dict[str, Parser] = {
        "name_or_path": _string,
        "task": _choice(("sequence-classification",)),
        "num_labels": lambda item, name: _integer(item, name, minimum=2),
        "revision": _optional(_string),
    }
    fields = _parse_section(value, "model", parsers)
    if "name_or_path" not in fields:
        raise ConfigError("model.name_or_path", "is required: a local directory, a hub id or package:<pkg>/<subdir>")
    declared = fields["name_or_path"]
    fields["name_or_path"] = _resolve_model_path(declared, "model.name_or_path", base_dir)
    return ModelConfig(**fields, declared_name_or_path=declared)


def _parse_data(value: Any, base_dir: Path) -> DataConfig:
    def data_path(item: Any, name: str) -> Path:
        return (base_dir / Path(_string(item, name)).expanduser()).resolve()

    def row_limit(item: Any, name: str) -> int | None:
        return None if item is None else _integer(item, name, minimum=1)

    parsers: dict[str, Parser] = {
        "train": data_path,
        "eval": data_path,
        "format": _choice(("auto", "jsonl", "csv", "tsv")),
        "text_column": _column,
        "text_pair_column": _optional(_column),
        "label_column": _column,
        "max_train_rows": row_limit,
        "max_eval_rows": row_limit,
    }
    fields = _parse_section(value, "data", parsers)
    for required in ("train", "eval"):
        if required not in fields:
            raise ConfigError(f"data.{required}", "is required: a .jsonl, .csv or .tsv file, relative to the config file")
    if fields.get("format", "auto") == "auto":
        for key in ("train", "eval"):
            suffix = fields[key].suffix.lower()
            if suffix not in FORMAT_BY_EXTENSION:
                raise ConfigError(
                    f"data.{key}",
                    f"cannot infer the format from the extension {suffix or '(none)'!r} of {fields[key].name!r}; "
                    "use .jsonl, .csv or .tsv, or set data.format",
                )
    text_column = fields.get("text_column", "text")
    label_column = fields.get("label_column", "label")
    if fields.get("text_pair_column") == text_column:
        raise ConfigError("data.text_pair_column", f"must differ from data.text_column, both are {text_column!r}")
    if label_column in (text_column, fields.get("text_pair_column")):
        raise ConfigError("data.label_column", f"must differ from the text columns, got {label_column!r}")
    return DataConfig(**fields)


def _parse_lora(value: Any) -> LoraSettings:
    parsers: dict[str, Parser] = {
        "r": lambda item, name: _integer(item, name, minimum=1),
        "alpha": lambda item, name: _integer(item, name, minimum=1),
        "dropout": _fraction,
        "target_modules": _target_modules,
        "init_lora_weights": _init_lora_weights,
        "bias": _choice(("none", "all", "lora_only")),
    }
    return LoraSettings(**_parse_section(value, "lora", parsers))


def _parse_training(value: Any) -> TrainingConfig:
    parsers: dict[str, Parser] = {
        "max_steps": _optional(lambda item, name: _integer(item, name, minimum=1)),
        "epochs": _optional(_positive_number),
        "batch_size": lambda item, name: _integer(item, name, minimum=1),
        "eval_batch_size": lambda item, name: _integer(item, name, minimum=1),
        "learning_rate": _positive_number,
        "max_length": lambda item, name: _integer(item, name, minimum=1),
        "weight_decay": _non_negative_number,
        "warmup_ratio": _fraction,
        "device": _device,
    }
    fields = _parse_section(value, "training", parsers)
    # max_steps defaults to 200, so setting only epochs switches to epochs.
    if fields.get("epochs") is not None:
        if fields.get("max_steps") is not None:
            raise ConfigError("training", "set exactly one of max_steps or epochs, not both")
        fields["max_steps"] = None
    elif "max_steps" in fields and fields["max_steps"] is None:
        raise ConfigError("training", "set exactly one of max_steps or epochs; both are null")
    return TrainingConfig(**fields)


def _parse_runner(value: Any) -> RunnerConfig:
    parsers: dict[str, Parser] = {
        "kind": _choice(("builtin", "command")),
        "command": _command,
        "timeout_s": _optional(_positive_number),
        "env": _env,
    }
    fields = _parse_section(value, "runner", parsers)
    kind = fields.get("kind", "builtin")
    if kind == "command" and "command" not in fields:
        raise ConfigError("runner.command", "is required for runner.kind: command, e.g. python train.py --seed {seed} --output {output_dir}")
    if kind == "builtin":
        for key in ("command", "timeout_s", "env"):
            if fields.get(key):
                raise ConfigError(f"runner.{key}", "applies only to runner.kind: command; remove it or set the kind")
    return RunnerConfig(**fields)


def _parse_seeds(value: Any) -> SeedsConfig:
    if value is None:
        return SeedsConfig()
    if isinstance(value, int) and not isinstance(value, bool):
        return SeedsConfig(seeds=tuple(range(_integer(value, "seeds", minimum=1))))
    if isinstance(value, list):
        return SeedsConfig(seeds=_seed_list(value, "seeds"))
    if not isinstance(value, dict):
        raise ConfigError(
            "seeds", f"must be a count, a list of seeds or a mapping {{min: 5, max: 10}}, got {_show(value)}"
        )
    parsers: dict[str, Parser] = {
        "min": lambda item, name: _integer(item, name, minimum=2),
        "max": lambda item, name: _integer(item, name, minimum=1),
        "list": _seed_list,
    }
    fields = _parse_section(value, "seeds", parsers)
    for required in ("min", "max"):
        if required not in fields:
            raise ConfigError(f"seeds.{required}", "is required for adaptive seeds, e.g. seeds: {min: 5, max: 10}")
    low, high = fields["min"], fields["max"]
    if high <= low:
        raise ConfigError("seeds.max", f"must be greater than seeds.min ({low}), got {high}")
    seeds = fields.get("list", tuple(range(high)))
    if len(seeds) != high:
        raise ConfigError("seeds.list", f"must have seeds.max = {high} entries, got {len(seeds)}")
    return SeedsConfig(seeds=seeds, adaptive_min=low, adaptive_max=high)


def _parse_metrics(value: Any) -> MetricsConfig:
    parsers: dict[str, Parser] = {
        "compute": _metric_names,
        "gate": _metric_names,
        "direction": _directions,
        "evaluator": _optional(_evaluator),
    }
    fields = _parse_section(value, "metrics", parsers)
    defaults = MetricsConfig()
    compute = fields.get("compute", defaults.compute)
    if fields.get("evaluator") is None:
        for index, metric in enumerate(compute):
            if metric not in BUILTIN_METRICS:
                raise ConfigError(
                    f"metrics.compute[{index}]",
                    f"{metric!r} is not a built-in metric ({', '.join(BUILTIN_METRICS)}){_suggestion(metric, BUILTIN_METRICS)}; "
                    "set metrics.evaluator to compute custom metrics",
                )
    gate = fields.get("gate", defaults.gate)
    for metric in gate:
        if metric not in compute:
            default_note = "" if "gate" in fields else " (metrics.gate defaults to accuracy)"
            raise ConfigError(
                "metrics.gate", f"{metric!r} is not in metrics.compute [{', '.join(compute)}]{default_note}; gate on computed metrics"
            )
    for metric in fields.get("direction", {}):
        if metric not in compute:
            raise ConfigError(f"metrics.direction.{metric}", f"{metric!r} is not in metrics.compute [{', '.join(compute)}]")
    return MetricsConfig(**fields)


def _decision_fields(value: Any, prefix: str) -> dict[str, Any]:
    parsers: dict[str, Parser] = {
        "rule": _choice(("auto", "welch", "paired", "band", "mann-whitney")),
        "alpha": _alpha,
        "min_effect": _non_negative_number,
        "band_k": _positive_number,
        "min_seeds": lambda item, name: _integer(item, name, minimum=2),
        "exclude_diverged": _boolean,
        "fail_on_environment_change": _boolean,
    }
    return _parse_section(value, prefix, parsers)


# ---------------------------------------------------------------- public API

SECTIONS = ("name", "model", "data", "lora", "training", "runner", "seeds", "metrics", "decision")


def parse_config(raw: Mapping[str, Any], *, base_dir: Path) -> Config:
    """Validate a mapping (parsed YAML) into a Config; raise ConfigError naming the field.

    Relative data and model paths resolve against `base_dir`. Data files are not opened
    here: the dataset loader raises DatasetError for a missing or unreadable file.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError("", f"the config must be a mapping of sections ({', '.join(SECTIONS)}), got {_show(raw)}")
    _reject_unknown_keys(raw, SECTIONS, "")
    if "name" not in raw:
        raise ConfigError("name", "is required: a short identifier for the baseline and the PR comment, e.g. sentiment-lora")
    if raw.get("model") is None:
        raise ConfigError("model", "is required, with at least name_or_path")
    if raw.get("data") is None:
        raise ConfigError("data", "is required, with at least train and eval")
    config = Config(
        name=_name(raw["name"], "name"),
        model=_parse_model(raw["model"], base_dir),
        data=_parse_data(raw["data"], base_dir),
        lora=_parse_lora(raw.get("lora")),
        training=_parse_training(raw.get("training")),
        runner=_parse_runner(raw.get("runner")),
        seeds=_parse_seeds(raw.get("seeds")),
        metrics=_parse_metrics(raw.get("metrics")),
        decision=DecisionConfig(**_decision_fields(raw.get("decision"), "decision")),
    )
    if len(config.seeds.seeds) < config.decision.min_seeds:
        logger.warning(
            "config %s runs %d seeds but decision.min_seeds is %d, so every verdict will be inconclusive",
            config.name, len(config.seeds.seeds), config.decision.min_seeds,
        )
    return config


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: Path) -> Config:
    """Read and validate a `.seedbot.yml` file; every ConfigError message starts with the path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "config file not found; pass the path to a .seedbot.yml") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), f"failed to read the config file: {error}") from error
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(str(path), f"invalid YAML{where}: {problem}") from error
    if raw is None:
        raise ConfigError(str(path), "the config file is empty; it needs at least name, model and data")
    if not isinstance(raw, dict):
        raise ConfigError(
            str(path), f"the top level must be a mapping of sections ({', '.join(SECTIONS)}), got {type(raw).__name__}"
        )
    try:
        parsed = parse_config(raw, base_dir=path.parent.resolve())
    except ConfigError as error:
        # Prefix the file name, as the YAML errors above have it, so a user with several
        # configs can tell which one failed. The field stays the dotted name in the file.
        error.args = (f"{path}: {error}",)
        raise
    config = replace(parsed, source=path.resolve())
    logger.debug("loaded config %s from %s (hash %s)", config.name, path, config_hash(config)[:12])
    return config


def parse_decision(raw: Mapping[str, Any]) -> DecisionConfig:
    """Validate just a `decision` section (the GitHub side reads it from the base branch)."""
    return DecisionConfig(**_decision_fields(raw, "decision"))


def config_hash(config: Config) -> str:
    """sha256 hex of the settings that change scores (not name, source, runner env).

    Left out as well: the data file paths (the dataset hash covers their content),
    training.device (provenance records the device that actually ran), the seed list
    (so `--seeds N` keeps the hash) and the decision section (it changes verdicts, not scores).
    """
    settings = {
        "model": {
            "name_or_path": config.model.declared_name_or_path or config.model.name_or_path,
            "task": config.model.task,
            "num_labels": config.model.num_labels,
            "revision": config.model.revision,
        },
        "data": {
            "format": config.data.format,
            "text_column": config.data.text_column,
            "text_pair_column": config.data.text_pair_column,
            "label_column": config.data.label_column,
            "max_train_rows": config.data.max_train_rows,
            "max_eval_rows": config.data.max_eval_rows,
        },
        "lora": {
            "r": config.lora.r,
            "alpha": config.lora.alpha,
            "dropout": config.lora.dropout,
            "target_modules": config.lora.target_modules,
            "init_lora_weights": config.lora.init_lora_weights,
            "bias": config.lora.bias,
        },
        "training": {
            "max_steps": config.training.max_steps,
            "epochs": config.training.epochs,
            "batch_size": config.training.batch_size,
            "eval_batch_size": config.training.eval_batch_size,
            "learning_rate": config.training.learning_rate,
            "max_length": config.training.max_length,
            "weight_decay": config.training.weight_decay,
            "warmup_ratio": config.training.warmup_ratio,
        },
        "runner": {"kind": config.runner.kind, "command": config.runner.command},
        "metrics": {"compute": config.metrics.compute, "evaluator": config.metrics.evaluator},
    }
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
