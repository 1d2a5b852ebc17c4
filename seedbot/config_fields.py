"""Parsers for single `.seedbot.yml` values: numbers, strings, choices, names, paths, seeds and metrics.

Each parser takes the raw value and the dotted field name, and raises a
ConfigError that names the field, the bad value and what is allowed.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from seedbot.errors import ConfigError

if TYPE_CHECKING:
    from seedbot.config import Direction


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


def _column(value: Any, field_name: str) -> str:
    return _string(value, field_name)


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


def _device(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not DEVICE_PATTERN.fullmatch(value):
        raise ConfigError(field_name, f"must be auto, cpu, cuda or cuda:<index>, got {_show(value)}")
    return value


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


def _seed_list(value: Any, field_name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(field_name, f"must be a non-empty list of seeds, got {_show(value)}")
    seeds = tuple(_integer(item, f"{field_name}[{index}]", minimum=0, maximum=MAX_SEED) for index, item in enumerate(value))
    duplicates = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if duplicates:
        raise ConfigError(field_name, f"seeds must be distinct, {duplicates[0]} appears more than once")
    return seeds


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
