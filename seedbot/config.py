"""`.seedbot.yml`: frozen dataclasses, validated once by `load_config`.

SKELETON: the dataclasses below are the contract every other module codes
against. Field names and defaults are fixed; the parser (`parse_config`),
`load_config`, `config_hash` and the JSON Schema are filled in by the
config work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

Direction = Literal["higher", "lower"]
Rule = Literal["auto", "welch", "paired", "band", "mann-whitney"]


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    name_or_path: str  # local directory or hub id, passed to from_pretrained
    task: Literal["sequence-classification"] = "sequence-classification"
    num_labels: int = 2
    revision: str | None = None


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
    target_modules: tuple[str, ...] = ("query", "value")
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
    env: Mapping[str, str] = field(default_factory=dict)


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


def parse_config(raw: Mapping[str, Any], *, base_dir: Path) -> Config:
    """Validate a mapping (parsed YAML) into a Config; raise ConfigError naming the field."""
    raise NotImplementedError


def load_config(path: Path) -> Config:
    """Read and validate a `.seedbot.yml` file."""
    raise NotImplementedError


def parse_decision(raw: Mapping[str, Any]) -> DecisionConfig:
    """Validate just a `decision` section (the GitHub side reads it from the base branch)."""
    raise NotImplementedError


def config_hash(config: Config) -> str:
    """sha256 hex of the settings that change scores (not name, source, runner env)."""
    raise NotImplementedError
