"""Built-in metrics on hand-computable logits, and custom evaluators."""

from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest
import torch

from seedbot.config import Config
from seedbot.errors import ConfigError
from seedbot.evaluation import EvaluatorError, builtin_metrics, check_requested, load_evaluator, run_evaluator
from seedbot.sweep import run_sweep

EVALUATORS = textwrap.dedent(
    """
    def positives(predictions, references, rows):
        return {"predicted_positive": sum(predictions) / len(predictions), "rows": len(rows)}

    def not_a_dict(predictions, references, rows):
        return 0.5

    def nan(predictions, references, rows):
        return {"score": float("nan")}

    def text(predictions, references, rows):
        return {"score": "high"}

    def flag(predictions, references, rows):
        return {"score": True}

    def raises(predictions, references, rows):
        raise KeyError("label_text")
    """
)


@pytest.fixture
def evaluator_dir(tmp_path: Path) -> Path:
    (tmp_path / "my_metrics.py").write_text(EVALUATORS, encoding="utf-8")
    return tmp_path


def test_builtin_metrics_by_hand() -> None:
    # Predictions 1, 0, 1, 1 against references 1, 0, 0, 1: three of four right.
    logits = torch.tensor([[0.0, 2.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 1.0]])
    labels = torch.tensor([1, 0, 0, 1])

    metrics = builtin_metrics(logits, labels, ["accuracy", "macro_f1", "eval_loss"])

    assert metrics["accuracy"] == 0.75
    # Class 0: precision 1, recall 0.5, F1 2/3. Class 1: precision 2/3, recall 1, F1 0.8.
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    expected_loss = -sum(
        math.log(math.exp(row[label]) / (math.exp(row[0]) + math.exp(row[1])))
        for row, label in zip(logits.tolist(), labels.tolist())
    ) / 4
    assert metrics["eval_loss"] == pytest.approx(expected_loss)


def test_builtin_metrics_only_requested() -> None:
    metrics = builtin_metrics(torch.tensor([[1.0, 0.0]]), torch.tensor([0]), ["accuracy"])

    assert metrics == {"accuracy": 1.0}


def test_macro_f1_when_one_class_never_predicted() -> None:
    metrics = builtin_metrics(torch.tensor([[1.0, 0.0]] * 4), torch.tensor([0, 0, 1, 1]), ["macro_f1"])

    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)


def test_load_evaluator_from_config_dir(evaluator_dir: Path) -> None:
    evaluator = load_evaluator("my_metrics:positives", search_dir=evaluator_dir)

    metrics = run_evaluator(evaluator, "my_metrics:positives", predictions=[1, 0, 1, 1], references=[1, 0, 0, 1], rows=[{}] * 4)

    assert metrics == {"predicted_positive": 0.75, "rows": 4.0}
    assert str(evaluator_dir) not in sys.path


@pytest.mark.parametrize(
    ("reference", "match"),
    [
        ("my_metrics", r"metrics\.evaluator: expected module:function, got 'my_metrics'"),
        ("no_such_module:score", r"metrics\.evaluator: cannot import module 'no_such_module' \(searched .*\)"),
        ("my_metrics:missing", r"metrics\.evaluator: module 'my_metrics' has no function 'missing'"),
    ],
)
def test_load_evaluator_errors(evaluator_dir: Path, reference: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_evaluator(reference, search_dir=evaluator_dir)


@pytest.mark.parametrize(
    ("function", "match"),
    [
        ("not_a_dict", r"evaluator my_metrics:not_a_dict returned float; it must return a dict"),
        ("nan", r"evaluator my_metrics:nan returned score=nan; metric values must be finite"),
        ("text", r"evaluator my_metrics:text returned score='high'; metric values must be numbers"),
        ("flag", r"evaluator my_metrics:flag returned score=True; metric values must be numbers"),
        ("raises", r"evaluator my_metrics:raises raised KeyError: 'label_text'"),
    ],
)
def test_evaluator_results_checked(evaluator_dir: Path, function: str, match: str) -> None:
    reference = f"my_metrics:{function}"
    evaluator = load_evaluator(reference, search_dir=evaluator_dir)

    with pytest.raises(EvaluatorError, match=match):
        run_evaluator(evaluator, reference, predictions=[1], references=[1], rows=[{}])


def test_check_requested_names_missing() -> None:
    with pytest.raises(EvaluatorError, match=r"metrics\.compute lists f2 but the runner produced only accuracy"):
        check_requested({"accuracy": 1.0}, ["accuracy", "f2"], "the runner")


def test_sweep_with_custom_evaluator(make_config: Callable[..., Config], evaluator_dir: Path) -> None:
    config = make_config(
        training={"max_steps": 5},
        seeds=(0,),
        metrics={"compute": ("accuracy", "predicted_positive"), "evaluator": "my_metrics:positives"},
        source=evaluator_dir / ".seedbot.yml",
    )

    result = run_sweep(config, output_dir=evaluator_dir / "out")

    card = result.scorecards[0]
    assert card.status == "ok", card.error
    assert set(card.metrics) == {"accuracy", "predicted_positive", "rows"}
    assert card.metrics["rows"] == 200.0
    assert 0.0 <= card.metrics["predicted_positive"] <= 1.0


def test_sweep_evaluator_failure_fails_seed(make_config: Callable[..., Config], evaluator_dir: Path) -> None:
    config = make_config(
        training={"max_steps": 2},
        seeds=(0, 1),
        metrics={"compute": ("accuracy",), "evaluator": "my_metrics:nan"},
        source=evaluator_dir / ".seedbot.yml",
    )

    result = run_sweep(config, output_dir=evaluator_dir / "out")

    assert [card.status for card in result.scorecards] == ["failed", "failed"]
    assert result.scorecards[0].error == "EvaluatorError: evaluator my_metrics:nan returned score=nan; metric values must be finite"
