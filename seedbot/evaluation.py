"""Metrics for one seed: the built-in ones and a user's evaluator.

Built-in: accuracy and macro_f1 (scikit-learn) and eval_loss (mean
cross-entropy, torch). A custom evaluator is a `module:function` reference;
seedbot calls `function(predictions=..., references=..., rows=...)` with the
predicted label ids, the true label ids and the eval rows as read from the
file, and expects a dict of metric name -> finite number.
"""

from __future__ import annotations

import importlib
import math
import numbers
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
from sklearn.metrics import accuracy_score, f1_score

from seedbot.errors import ConfigError

BUILTIN_METRICS = ("accuracy", "macro_f1", "eval_loss")

Evaluator = Callable[..., Mapping[str, Any]]


class EvaluatorError(ValueError):
    """A custom evaluator raised or returned something other than a dict of finite numbers."""


def builtin_metrics(logits: torch.Tensor, labels: torch.Tensor, names: Sequence[str]) -> dict[str, float]:
    """Compute the built-in metrics among `names` from logits [n, num_labels] and labels [n]."""
    predictions = logits.argmax(dim=-1).cpu().numpy()
    references = labels.cpu().numpy()
    metrics: dict[str, float] = {}
    if "accuracy" in names:
        metrics["accuracy"] = float(accuracy_score(references, predictions))
    if "macro_f1" in names:
        # zero_division=0: a class that is never predicted scores F1 0 instead of warning.
        metrics["macro_f1"] = float(f1_score(references, predictions, average="macro", zero_division=0))
    if "eval_loss" in names:
        metrics["eval_loss"] = float(torch.nn.functional.cross_entropy(logits.float(), labels).item())
    return metrics


def load_evaluator(reference: str, *, search_dir: Path | None) -> Evaluator:
    """Import `module:function`, looking in `search_dir` (the config file's directory) first."""
    module_name, _, function_name = reference.partition(":")
    if not module_name or not function_name:
        raise ConfigError("metrics.evaluator", f"expected module:function, got {reference!r}")

    added = search_dir is not None and str(search_dir) not in sys.path
    if added:
        sys.path.insert(0, str(search_dir))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        where = f" (searched {search_dir} and sys.path)" if search_dir is not None else ""
        raise ConfigError("metrics.evaluator", f"cannot import module {module_name!r}{where}: {exc}") from exc
    finally:
        if added:
            sys.path.remove(str(search_dir))

    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError("metrics.evaluator", f"module {module_name!r} has no function {function_name!r}")
    return function


def run_evaluator(
    evaluator: Evaluator,
    reference: str,
    *,
    predictions: Sequence[int],
    references: Sequence[int],
    rows: Sequence[Mapping[str, Any]],
) -> dict[str, float]:
    """Call a custom evaluator and check that it returned a dict of finite numbers."""
    try:
        result = evaluator(predictions=list(predictions), references=list(references), rows=list(rows))
    except Exception as exc:
        raise EvaluatorError(f"evaluator {reference} raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, Mapping):
        raise EvaluatorError(f"evaluator {reference} returned {type(result).__name__}; it must return a dict of metric name -> number")

    metrics: dict[str, float] = {}
    for name, value in result.items():
        if not isinstance(name, str):
            raise EvaluatorError(f"evaluator {reference} returned a non-string metric name {name!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise EvaluatorError(f"evaluator {reference} returned {name}={value!r}; metric values must be numbers")
        if not math.isfinite(float(value)):
            raise EvaluatorError(f"evaluator {reference} returned {name}={value}; metric values must be finite")
        metrics[name] = float(value)
    return metrics


def check_requested(metrics: Mapping[str, float], requested: Sequence[str], source: str) -> None:
    """Raise EvaluatorError when a metric named in metrics.compute was not produced."""
    missing = [name for name in requested if name not in metrics]
    if missing:
        raise EvaluatorError(
            f"metrics.compute lists {', '.join(missing)} but {source} produced only "
            f"{', '.join(sorted(metrics)) or 'nothing'}; produce them or remove them from metrics.compute"
        )
