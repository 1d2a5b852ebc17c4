"""The shipped example: prepare.py on the real VADER lexicon, its two configs, and a short
sweep of the real all-MiniLM-L6-v2 through the builtin runner.

The sweep test runs 2 seeds of 50 steps instead of the demo's 5 seeds of 200.
A higher learning rate and LoRA dropout off keep it far above the majority
class, and it ends in about half a minute on one CPU thread.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from seedbot.config import load_config
from seedbot.scorecard import read_results
from seedbot.sweep import run_sweep

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "vader-minilm"

LEXICON_LINES = [
    # token, mean, std, raw ratings; the expected row or the reason it is dropped
    ("good\t1.9\t0.9434\t[2, 1, 1, 3, 2, 4, 2, 2, 1, 1]", {"text": "good", "label": 1}),
    ("bad\t-2.5\t0.67082\t[-2, -2, -4, -2, -3, -2, -3, -2, -2, -3]", {"text": "bad", "label": 0}),
    ("BAD\t-2.4\t0.66332\t[-2, -2, -4, -2, -3, -2, -3, -2, -2, -2]", "case duplicate"),
    ("meh\t0.0\t1.0\t[1, -1, 1, -1, 1, -1, 0, 0, 0, 0]", "neutral"),
    ("so-so\t0.3\t1.1\t[2, 1, 1, 1, 1, 1, -1, -2, -1, 0]", "ambiguous"),  # 6 of 10 agree
    ("ok\t0.7\t0.9\t[1, 1, 1, 1, 1, 1, 1, -1, 0, 1]", {"text": "ok", "label": 1}),  # 8 of 10 agree
]


@pytest.fixture(scope="module")
def prepare() -> ModuleType:
    """Import examples/vader-minilm/prepare.py, whose folder name is not a package name."""
    spec = importlib.util.spec_from_file_location("vader_prepare", EXAMPLE_DIR / "prepare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def prepared_dir(prepare: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with data/train.jsonl and data/eval.jsonl made from the installed lexicon."""
    directory = tmp_path_factory.mktemp("vader")
    assert prepare.main(["--output-dir", str(directory / "data")]) == 0
    return directory


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def negative_share(rows: list[dict[str, Any]]) -> float:
    return sum(1 for row in rows if row["label"] == 0) / len(rows)


# ---------------------------------------------------------------- prepare.py


def test_prepare_selects_rows(prepare: ModuleType, tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("\r\n".join(line for line, _ in LEXICON_LINES) + "\r\n", encoding="utf-8")

    rows, dropped = prepare.select_rows(prepare.read_lexicon(lexicon), min_agreement=7)

    assert rows == [expected for _, expected in LEXICON_LINES if isinstance(expected, dict)]
    reasons = [expected for _, expected in LEXICON_LINES if isinstance(expected, str)]
    assert dict(dropped) == {reason: reasons.count(reason) for reason in reasons}


def test_prepare_rejects_malformed_line(prepare: ModuleType, tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("good\t1.9\t0.9\n", encoding="utf-8")

    with pytest.raises(ValueError, match=r"lexicon.txt:1: expected 4 tab-separated fields \(token, mean, std, ratings\), got 3"):
        prepare.read_lexicon(lexicon)


def test_prepare_split_is_fixed(prepare: ModuleType, prepared_dir: Path, tmp_path: Path) -> None:
    assert prepare.main(["--output-dir", str(tmp_path)]) == 0

    for name in ("train.jsonl", "eval.jsonl"):
        assert (tmp_path / name).read_bytes() == (prepared_dir / "data" / name).read_bytes(), name


def test_prepare_splits_are_disjoint_and_stratified(prepared_dir: Path) -> None:
    train = read_jsonl(prepared_dir / "data" / "train.jsonl")
    eval_rows = read_jsonl(prepared_dir / "data" / "eval.jsonl")

    assert len(eval_rows) == pytest.approx(0.2 * (len(train) + len(eval_rows)), abs=1)
    assert not {row["text"].lower() for row in train} & {row["text"].lower() for row in eval_rows}
    assert {row["label"] for row in train + eval_rows} == {0, 1}
    assert negative_share(eval_rows) == pytest.approx(negative_share(train), abs=0.005)


# ---------------------------------------------------------------- the configs


def test_candidate_changes_one_setting() -> None:
    baseline = load_config(EXAMPLE_DIR / ".seedbot.yml")
    candidate = load_config(EXAMPLE_DIR / "candidate.seedbot.yml")

    assert candidate.name == baseline.name
    assert candidate.model.name_or_path == baseline.model.name_or_path
    assert Path(baseline.model.name_or_path, "config.json").is_file()
    sections = [field.name for field in dataclasses.fields(baseline) if field.name != "source"]
    changed = [name for name in sections if getattr(baseline, name) != getattr(candidate, name)]
    assert changed == ["training"]
    assert dataclasses.replace(candidate.training, learning_rate=baseline.training.learning_rate) == baseline.training
    assert candidate.training.learning_rate != baseline.training.learning_rate


# ---------------------------------------------------------------- the real model


@pytest.mark.slow
def test_example_sweep_learns_polarity(prepared_dir: Path) -> None:
    raw = yaml.safe_load((EXAMPLE_DIR / ".seedbot.yml").read_text(encoding="utf-8"))
    raw["training"].update(max_steps=50, learning_rate=3.0e-3)
    raw["lora"]["dropout"] = 0.0
    raw["seeds"] = [0, 1]
    config_path = prepared_dir / ".seedbot.yml"
    config_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    majority = negative_share(read_jsonl(prepared_dir / "data" / "eval.jsonl"))

    result = run_sweep(load_config(config_path), output_dir=prepared_dir / "out")

    assert [card.seed for card in result.scorecards] == [0, 1]
    for card in result.scorecards:
        assert card.status == "ok", card.error
        # 50 steps gave 0.90 on both seeds when this test was written; the majority class is 0.57.
        assert card.metrics["accuracy"] > majority + 0.2, card.metrics
        assert (prepared_dir / "out" / f"seed-{card.seed}" / "adapter" / "adapter_config.json").is_file()
    first, second = (card.metrics for card in result.scorecards)
    assert first["eval_loss"] != second["eval_loss"], "both seeds scored the same: is the seed applied?"
    assert read_results(prepared_dir / "out" / "results.json") == result
