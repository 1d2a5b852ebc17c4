"""The built-in runner: LoRA fine-tuning of a sequence classifier with transformers + peft.

`prepare` loads the tokenizer and the base model and tokenizes both splits
once per sweep. Each `run_seed` then copies the base model, gives it a fresh
classification head and LoRA adapter drawn from the seed, trains with a
plain torch loop, evaluates, and saves the adapter.

The loop follows the Hugging Face Trainer's defaults where the config has no
setting: AdamW with no weight decay on biases and norm weights, linear warmup
then linear decay, gradient clipping at norm 1.0, and a last batch that may
be smaller than the others.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
import transformers
from peft import LoraConfig, TaskType, get_peft_model
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

from seedbot.config import Config
from seedbot.data import Dataset, Split, load_dataset
from seedbot.evaluation import BUILTIN_METRICS, Evaluator, builtin_metrics, check_requested, load_evaluator, run_evaluator
from seedbot.errors import ConfigError
from seedbot.log import logger
from seedbot.seeding import enable_determinism, resolve_device, seed_everything

# Gradient-norm clipping threshold, the Trainer's default max_grad_norm.
MAX_GRAD_NORM = 1.0


@dataclass(frozen=True)
class Encoded:
    """A tokenized split, padded to its longest row; batches are cut to their own longest row."""

    inputs: Mapping[str, torch.Tensor]  # input_ids, attention_mask and, for BERT-like models, token_type_ids
    labels: torch.Tensor
    lengths: torch.Tensor  # real tokens per row

    def batch(self, indices: torch.Tensor, device: torch.device) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        width = int(self.lengths[indices].max())
        inputs = {name: tensor[indices, :width].to(device) for name, tensor in self.inputs.items()}
        return inputs, self.labels[indices].to(device)


class BuiltinRunner:
    """Runner for `runner.kind: builtin`."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.device = torch.device("cpu")
        self.base_model: torch.nn.Module | None = None
        self.head_modules: tuple[str, ...] = ()
        self.dataset: Dataset | None = None
        self.train: Encoded | None = None
        self.eval: Encoded | None = None
        self.evaluator: Evaluator | None = None
        self.total_steps = 0
        self.extra: dict[str, Any] = {}  # read by run_sweep into SweepResult.extra

    def prepare(self, config: Config) -> None:
        """Load the tokenizer and base model, tokenize train and eval, and resolve the evaluator."""
        enable_determinism()
        self.config = config
        self.device = resolve_device(config.training.device)
        self.dataset = load_dataset(config.data, num_labels=config.model.num_labels)

        if config.metrics.evaluator:
            search_dir = config.source.parent if config.source is not None else Path.cwd()
            self.evaluator = load_evaluator(config.metrics.evaluator, search_dir=search_dir)

        _check_local_model(config.model.name_or_path)
        tokenizer = AutoTokenizer.from_pretrained(config.model.name_or_path, revision=config.model.revision)
        if tokenizer.pad_token is None and tokenizer.eos_token is not None:
            # Decoder-only checkpoints (GPT-2, Llama) ship without a padding token.
            tokenizer.pad_token = tokenizer.eos_token
        self.train = _encode(tokenizer, self.dataset.train, config.training.max_length)
        self.eval = _encode(tokenizer, self.dataset.eval, config.training.max_length)
        self.base_model, self.head_modules = _load_base_model(config)
        if self.base_model.config.pad_token_id is None:
            # Sequence classifiers of decoder models find the last real token through pad_token_id.
            self.base_model.config.pad_token_id = tokenizer.pad_token_id

        steps_per_epoch = math.ceil(len(self.dataset.train) / config.training.batch_size)
        if config.training.max_steps is not None:
            self.total_steps = config.training.max_steps
        elif config.training.epochs is not None:
            self.total_steps = max(1, math.ceil(config.training.epochs * steps_per_epoch))
        else:
            raise ConfigError("training", "set training.max_steps or training.epochs")

        self.extra = {
            "train_rows": len(self.dataset.train),
            "eval_rows": len(self.dataset.eval),
            "total_steps": self.total_steps,
            "head_modules": list(self.head_modules),
            # A seed at this accuracy collapsed to the majority class; the verdict flags it as diverged.
            "majority_accuracy": self.dataset.eval.majority_accuracy,
        }
        if self.dataset.label_names is not None:
            self.extra["label_names"] = list(self.dataset.label_names)
            logger.info(
                "label names mapped to ids in sorted order: %s",
                ", ".join(f"{name}={index}" for index, name in enumerate(self.dataset.label_names)),
            )
        logger.info(
            "prepared %s on %s: %d train rows, %d eval rows, %d steps per seed",
            config.model.name_or_path, self.device, len(self.dataset.train), len(self.dataset.eval), self.total_steps,
        )

    def run_seed(self, seed: int, output_dir: Path, progress: Any) -> Mapping[str, float]:
        """Train a fresh adapter and head with `seed`, evaluate them, and save the adapter."""
        if self.config is None or self.base_model is None or self.train is None or self.eval is None:
            raise RuntimeError("BuiltinRunner.run_seed called before prepare(config)")
        config = self.config

        data_order = seed_everything(seed)
        model = copy.deepcopy(self.base_model)
        _reset_head(model, self.head_modules)
        with warnings.catch_warnings():
            # peft 0.21 calls a method that transformers 5 deprecates; the warning is not the user's to act on.
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            model = get_peft_model(model, _lora_config(config, self.head_modules))
        model.to(self.device)

        _train(model, self.train, config, self.total_steps, data_order, self.device, lambda step: progress.step(seed, step, self.total_steps))
        metrics = self._evaluate(model)

        model.save_pretrained(str(Path(output_dir) / "adapter"))
        return metrics

    def _evaluate(self, model: torch.nn.Module) -> dict[str, float]:
        assert self.config is not None
        assert self.eval is not None
        assert self.dataset is not None
        logits = _predict(model, self.eval, self.config.training.eval_batch_size, self.device)
        requested = self.config.metrics.compute
        metrics = builtin_metrics(logits, self.eval.labels, [name for name in requested if name in BUILTIN_METRICS])
        if self.evaluator is not None:
            reference = self.config.metrics.evaluator or ""
            custom = run_evaluator(
                self.evaluator,
                reference,
                predictions=logits.argmax(dim=-1).tolist(),
                references=self.eval.labels.tolist(),
                rows=self.dataset.eval.rows,
            )
            metrics.update(custom)
        source = "the built-in metrics" + (f" and evaluator {self.config.metrics.evaluator}" if self.evaluator else "")
        check_requested(metrics, requested, source)
        return metrics


def _check_local_model(name_or_path: str) -> None:
    """Raise ConfigError for a local model path that does not exist, instead of a hub lookup of it."""
    looks_local = Path(name_or_path).is_absolute() or name_or_path.startswith((".", "~")) or name_or_path.count("/") > 1
    if looks_local and not Path(name_or_path).expanduser().is_dir():
        raise ConfigError(
            "model.name_or_path",
            f"directory not found: {name_or_path}; give a local model directory or a hub id like org/name",
        )


def _encode(tokenizer: Any, split: Split, max_length: int) -> Encoded:
    encoded = tokenizer(
        list(split.texts),
        list(split.text_pairs) if split.text_pairs is not None else None,
        truncation=True,
        max_length=max_length,
        padding="longest",
        return_tensors="pt",
    )
    inputs = {name: encoded[name] for name in ("input_ids", "attention_mask", "token_type_ids") if name in encoded}
    return Encoded(
        inputs=inputs,
        labels=torch.tensor(split.labels, dtype=torch.long),
        lengths=encoded["attention_mask"].sum(dim=1),
    )


def _load_base_model(config: Config) -> tuple[torch.nn.Module, tuple[str, ...]]:
    """Load the checkpoint as a sequence classifier; return it and the head modules it lacked.

    A checkpoint without a classification head (a plain BertModel, say) gets
    a new one from transformers. Those modules are re-drawn from each seed and
    trained in full. A head that the checkpoint has, with the right number of
    labels, starts from its saved weights in every seed.
    """
    # Keep the loader's report of new weights and its progress bar out of the log:
    # seedbot logs the head modules itself.
    verbosity = transformers.logging.get_verbosity()
    progress_bar = transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        model, loading_info = AutoModelForSequenceClassification.from_pretrained(
            config.model.name_or_path,
            revision=config.model.revision,
            num_labels=config.model.num_labels,
            problem_type="single_label_classification",
            ignore_mismatched_sizes=True,
            output_loading_info=True,
        )
    finally:
        transformers.logging.set_verbosity(verbosity)
        if progress_bar:
            transformers.utils.logging.enable_progress_bar()

    new_parameters = set(loading_info.get("missing_keys", ())) | {
        key if isinstance(key, str) else key[0] for key in loading_info.get("mismatched_keys", ())
    }
    head = sorted({name.rpartition(".")[0] for name in new_parameters if "." in name})
    if head:
        logger.info("%s has no trained weights for %s: they are drawn from each seed and trained", config.model.name_or_path, ", ".join(head))
    model.eval()
    return model, tuple(head)


def _reset_head(model: torch.nn.Module, head_modules: tuple[str, ...]) -> None:
    """Draw the new head's weights from the current torch RNG, as BERT-family models initialize them."""
    std = getattr(model.config, "initializer_range", 0.02)
    for name in head_modules:
        for module in model.get_submodule(name).modules():
            if isinstance(module, torch.nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=std)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, torch.nn.LayerNorm):
                torch.nn.init.ones_(module.weight)
                torch.nn.init.zeros_(module.bias)
            elif hasattr(module, "reset_parameters") and any(True for _ in module.parameters(recurse=False)):
                module.reset_parameters()


def _lora_config(config: Config, head_modules: tuple[str, ...]) -> LoraConfig:
    lora = config.lora
    # TaskType.SEQ_CLS adds "classifier" and "score" to modules_to_save; the
    # new head modules are listed too, for models whose head has other names.
    return LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        # A string is a regular expression (or "all-linear") that peft matches itself.
        target_modules=lora.target_modules if isinstance(lora.target_modules, str) else list(lora.target_modules),
        init_lora_weights=lora.init_lora_weights,
        bias=lora.bias,
        modules_to_save=list(head_modules) or None,
    )


def _train(
    model: torch.nn.Module,
    train: Encoded,
    config: Config,
    total_steps: int,
    data_order: torch.Generator,
    device: torch.device,
    on_step: Any,
) -> None:
    settings = config.training
    trainable = [(name, parameter) for name, parameter in model.named_parameters() if parameter.requires_grad]
    decay = [parameter for name, parameter in trainable if parameter.ndim >= 2]
    no_decay = [parameter for name, parameter in trainable if parameter.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=settings.learning_rate,
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(settings.warmup_ratio * total_steps), total_steps)
    parameters = [parameter for _, parameter in trainable]

    model.train()
    rows = len(train.labels)
    step = 0
    while step < total_steps:
        order = torch.randperm(rows, generator=data_order)
        for start in range(0, rows, settings.batch_size):
            inputs, labels = train.batch(order[start : start + settings.batch_size], device)
            loss = model(**inputs, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, MAX_GRAD_NORM)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            on_step(step)
            if step >= total_steps:
                break


def _predict(model: torch.nn.Module, data: Encoded, batch_size: int, device: torch.device) -> torch.Tensor:
    """Return the logits [rows, num_labels] on the CPU."""
    model.eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(data.labels), batch_size):
            inputs, _ = data.batch(torch.arange(start, min(start + batch_size, len(data.labels))), device)
            chunks.append(model(**inputs).logits.float().cpu())
    return torch.cat(chunks)
