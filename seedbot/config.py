"""`.seedbot.yml`: frozen dataclasses, validated once by `load_config`.

Each field has one small parser. Every error is a ConfigError that names the
dotted field, the bad value and what is allowed, for example
`lora.r: must be a positive integer, got -4`. The JSON Schema in
`seedbot/schema/seedbot.schema.json` describes the same file for editors.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

import yaml

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
PACKAGE_PREFIX = "package:"
# peft 0.21 LoraConfig.init_lora_weights string values, besides "pissa_niter_<n>".
# eva, loftq, corda and lora_ga need extra peft configs that seedbot does not pass.
PEFT_INIT_NAMES = ("gaussian", "eva", "olora", "pissa", "corda", "loftq", "orthogonal", "mica", "lora_ga")
MAX_SEED = 2**32 - 1  # numpy.random.seed, which transformers' set_seed calls, rejects larger seeds
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
METRIC_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
EVALUATOR_PATTERN = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")
ENV_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Keys that peft and transformers users write out of habit, mapped to seedbot's names,
# for suggestions that difflib's similarity ratio misses ("rank" is far from "r").
KEY_ALIASES = {
    "rank": "r",
    "lora_r": "r",
    "lr": "learning_rate",
    "num_train_epochs": "epochs",
    "per_device_train_batch_size": "batch_size",
    "per_device_eval_batch_size": "eval_batch_size",
    "model_name_or_path": "name_or_path",
    "seed": "seeds",
}

Parser = Callable[[Any, str], Any]


# ---------------------------------------------------------------- value parsers


def _show(value: Any) -> str:
    """Format a bad value the way it would appear in YAML/JSON (strings quoted)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _integer(value: Any, field_name: str, *, minimum: int, maximum: int | None = None) -> int:
    if minimum == 1:
        allowed = "a positive integer"
    elif minimum == 0:
        allowed = "a non-negative integer"
    else:
        allowed = f"an integer >= {minimum}"
    if maximum is not None:
        allowed = f"an integer in [{minimum}, {maximum}]"
    # bool is a subclass of int, so YAML's `true` would otherwise pass as 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(field_name, f"must be {allowed}, got {_show(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ConfigError(field_name, f"must be {allowed}, got {_show(value)}")
    return value


def _as_float(value: Any, field_name: str, allowed: str) -> float:
    # PyYAML follows YAML 1.1, which reads `1e-3` (no dot) as a string, so numeric
    # strings are accepted for number fields.
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(field_name, f"must be {allowed}, got {_show(value)}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(field_name, f"must be {allowed}, got {_show(value)}")
    return float(value)


def _positive_number(value: Any, field_name: str) -> float:
    number = _as_float(value, field_name, "a positive number")
    if not number > 0 or number == float("inf"):
        raise ConfigError(field_name, f"must be a positive number, got {_show(value)}")
    return number


def _non_negative_number(value: Any, field_name: str) -> float:
    number = _as_float(value, field_name, "a number >= 0")
    if not number >= 0 or number == float("inf"):
        raise ConfigError(field_name, f"must be a number >= 0, got {_show(value)}")
    return number


def _fraction(value: Any, field_name: str) -> float:
    """Parse a number in [0, 1), such as a dropout or warmup ratio."""
    number = _as_float(value, field_name, "a number in [0, 1)")
    if not 0 <= number < 1:
        raise ConfigError(field_name, f"must be a number in [0, 1), got {_show(value)}")
    return number


def _alpha(value: Any, field_name: str) -> float:
    number = _as_float(value, field_name, "a number in (0, 0.5]")
    if not 0 < number <= 0.5:
        raise ConfigError(field_name, f"must be a number in (0, 0.5], got {_show(value)}")
    return number


def _string(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(field_name, f"must be a non-empty string, got {_show(value)}")
    return value


def _boolean(value: Any, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(field_name, f"must be true or false, got {_show(value)}")
    return value


def _choice(choices: tuple[str, ...]) -> Parser:
    def parse(value: Any, field_name: str) -> str:
        if value not in choices:
            hint = _suggestion(value, choices)
            raise ConfigError(field_name, f"must be one of {', '.join(choices)}; got {_show(value)}{hint}")
        return value

    return parse


def _optional(parser: Parser) -> Parser:
    def parse(value: Any, field_name: str) -> Any:
        return None if value is None else parser(value, field_name)

    return parse


def _string_list(value: Any, field_name: str) -> tuple[str, ...]:
    """Parse a non-empty list of distinct non-empty strings."""
    if not isinstance(value, list) or not value:
        raise ConfigError(field_name, f"must be a non-empty list of strings, got {_show(value)}")
    items = tuple(_string(item, f"{field_name}[{index}]") for index, item in enumerate(value))
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        raise ConfigError(field_name, f"lists {', '.join(map(repr, duplicates))} more than once")
    return items


def _suggestion(value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        return ""
    matches = difflib.get_close_matches(value, choices, n=1)
    return f"; did you mean {matches[0]!r}?" if matches else ""


def _mapping(value: Any, field_name: str) -> Mapping[str, Any]:
    """Parse a section: a mapping, or nothing (an empty `lora:` line) for all defaults."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(field_name, f"must be a mapping of settings, got {_show(value)}")
    return value


def _reject_unknown_keys(section: Mapping[Any, Any], allowed: Mapping[str, Any] | tuple[str, ...], prefix: str) -> None:
    for key in section:
        if key in allowed:
            continue
        dotted = f"{prefix}.{key}" if prefix else str(key)
        alias = KEY_ALIASES.get(str(key))
        matches = [alias] if alias in allowed else difflib.get_close_matches(str(key), list(allowed), n=1)
        if matches:
            raise ConfigError(dotted, f"unknown key; did you mean {matches[0]!r}?")
        raise ConfigError(dotted, f"unknown key; allowed keys: {', '.join(allowed)}")


def _parse_section(value: Any, prefix: str, parsers: Mapping[str, Parser]) -> dict[str, Any]:
    """Run each present key's parser; absent keys keep the dataclass default."""
    section = _mapping(value, prefix)
    _reject_unknown_keys(section, parsers, prefix)
    return {key: parsers[key](item, f"{prefix}.{key}") for key, item in section.items()}


# ---------------------------------------------------------------- sections


def _name(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise ConfigError(
            field_name,
            f"must be a short identifier of letters, digits, '.', '_' and '-' "
            f"(at most 64, starting with a letter or digit), got {_show(value)}",
        )
    return value


def _resolve_package_path(value: str, field_name: str) -> str:
    """Turn `package:<pkg>/<subdir>` into that directory inside the installed package."""
    package, _, subdir = value[len(PACKAGE_PREFIX):].partition("/")
    if not package or not all(part.isidentifier() for part in package.split(".")):
        raise ConfigError(field_name, f"must be package:<python_package>/<subdirectory>, got {_show(value)}")
    if ".." in Path(subdir).parts or Path(subdir).is_absolute():
        raise ConfigError(field_name, f"the subdirectory must stay inside the package, got {_show(subdir)}")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        distribution = package.split(".")[0].replace("_", "-")
        raise ConfigError(
            field_name, f"package {package!r} is not installed; install it with `pip install {distribution}`"
        )
    if spec.submodule_search_locations:
        root = Path(list(spec.submodule_search_locations)[0])
    else:
        root = Path(spec.origin or ".").parent
    directory = root / subdir
    if not directory.is_dir():
        raise ConfigError(field_name, f"no directory {subdir!r} in package {package!r} (installed at {root})")
    return str(directory)


def _resolve_model_path(value: str, field_name: str, base_dir: Path) -> str:
    """Resolve `package:` references and relative paths; leave hub ids unchanged."""
    if value.startswith(PACKAGE_PREFIX):
        return _resolve_package_path(value, field_name)
    if value.startswith(("./", "../", "/", "~")):
        return str((base_dir / Path(value).expanduser()).resolve())
    # A bare `org/name` is a hub id unless a directory of that name sits next to the config.
    local = base_dir / value
    if local.is_dir():
        return str(local.resolve())
    return value


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


def _column(value: Any, field_name: str) -> str:
    return _string(value, field_name)


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


def _target_modules(value: Any, field_name: str) -> tuple[str, ...] | str:
    if isinstance(value, str):
        return _string(value, field_name)
    return _string_list(value, field_name)


def _init_lora_weights(value: Any, field_name: str) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and (value in PEFT_INIT_NAMES or re.fullmatch(r"pissa_niter_\d+", value)):
        return value
    raise ConfigError(
        field_name,
        f"must be true, false, one of {', '.join(PEFT_INIT_NAMES)} or pissa_niter_<n>; got {_show(value)}"
        f"{_suggestion(value, PEFT_INIT_NAMES)}",
    )


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


def _device(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not DEVICE_PATTERN.fullmatch(value):
        raise ConfigError(field_name, f"must be auto, cpu, cuda or cuda:<index>, got {_show(value)}")
    return value


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


def _command(value: Any, field_name: str) -> str:
    # The command runner replaces the two placeholders literally, so other braces
    # (a JSON argument, say) pass through unchanged and need no escaping.
    command = _string(value, field_name)
    for placeholder in ("{seed}", "{output_dir}"):
        if placeholder not in command:
            raise ConfigError(field_name, f"must contain {placeholder}, got {command!r}")
    return command


def _env(value: Any, field_name: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(field_name, f"must be a mapping of variable names to strings, got {_show(value)}")
    env = {}
    for key, item in value.items():
        if not isinstance(key, str) or not ENV_NAME_PATTERN.fullmatch(key):
            raise ConfigError(field_name, f"invalid variable name {_show(key)}; use letters, digits and '_'")
        # Numbers are common here (OMP_NUM_THREADS: 1); booleans and nulls are ambiguous.
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ConfigError(f"{field_name}.{key}", f"must be a string, got {_show(item)}; quote the value")
        env[key] = str(item)
    return env


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


def _seed_list(value: Any, field_name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(field_name, f"must be a non-empty list of seeds, got {_show(value)}")
    seeds = tuple(_integer(item, f"{field_name}[{index}]", minimum=0, maximum=MAX_SEED) for index, item in enumerate(value))
    duplicates = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if duplicates:
        raise ConfigError(field_name, f"seeds must be distinct, {duplicates[0]} appears more than once")
    return seeds


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


def _metric_name(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not METRIC_NAME_PATTERN.fullmatch(value):
        raise ConfigError(field_name, f"must be a metric name (letters, digits, '_', '.', '-'), got {_show(value)}")
    return value


def _metric_names(value: Any, field_name: str) -> tuple[str, ...]:
    """Parse a metric name or a non-empty list of distinct ones."""
    names = _string_list([value] if isinstance(value, str) else value, field_name)
    return tuple(_metric_name(name, f"{field_name}[{index}]") for index, name in enumerate(names))


def _evaluator(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not EVALUATOR_PATTERN.fullmatch(value):
        raise ConfigError(field_name, f"must be a reference module:function (e.g. my_pkg.metrics:evaluate), got {_show(value)}")
    return value


def _directions(value: Any, field_name: str) -> dict[str, Direction]:
    if not isinstance(value, dict):
        raise ConfigError(field_name, f"must be a mapping of metric names to higher or lower, got {_show(value)}")
    parse_direction = _choice(("higher", "lower"))
    return {
        _metric_name(metric, field_name): parse_direction(item, f"{field_name}.{metric}") for metric, item in value.items()
    }


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
