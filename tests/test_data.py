"""Reading train/eval files: formats, label mapping, row limits, the dataset hash and errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seedbot.config import DataConfig
from seedbot.data import dataset_hash, load_dataset
from seedbot.errors import DatasetError

JSONL_TRAIN = '{"text": "good film", "label": 1}\n{"text": "bad film", "label": 0}\n\n{"text": "fine", "label": 1}\n'
JSONL_EVAL = '{"text": "great", "label": 1}\n{"text": "awful", "label": 0}\n'


def write_files(tmp_path: Path, train: str, eval_text: str, suffix: str = ".jsonl") -> DataConfig:
    train_path = tmp_path / f"train{suffix}"
    eval_path = tmp_path / f"eval{suffix}"
    train_path.write_text(train, encoding="utf-8")
    eval_path.write_text(eval_text, encoding="utf-8")
    return DataConfig(train=train_path, eval=eval_path)


def test_jsonl_rows_and_blank_lines(tmp_path: Path) -> None:
    dataset = load_dataset(write_files(tmp_path, JSONL_TRAIN, JSONL_EVAL), num_labels=2)

    assert dataset.train.texts == ("good film", "bad film", "fine")
    assert dataset.train.labels == (1, 0, 1)
    assert dataset.eval.labels == (1, 0)
    assert dataset.label_names is None
    assert dataset.train.text_pairs is None
    assert dataset.eval.rows[0] == {"text": "great", "label": 1}


def test_csv_with_quoted_commas(tmp_path: Path) -> None:
    config = write_files(tmp_path, 'text,label\n"good, really",1\nbad,0\n', "text,label\nok,1\n", suffix=".csv")

    dataset = load_dataset(config, num_labels=2)

    assert dataset.train.texts == ("good, really", "bad")
    assert dataset.train.labels == (1, 0)


def test_tsv_keeps_bare_quotes(tmp_path: Path) -> None:
    # GLUE-style TSV: quote characters are part of the text.
    config = write_files(tmp_path, 'sentence\tlabel\nit\'s "fine\t1\nno\t0\n', "sentence\tlabel\nyes\t1\n", suffix=".tsv")
    config = DataConfig(train=config.train, eval=config.eval, text_column="sentence")

    dataset = load_dataset(config, num_labels=2)

    assert dataset.train.texts == ('it\'s "fine', "no")


def test_text_pair_column(tmp_path: Path) -> None:
    rows = '{"premise": "a", "hypothesis": "b", "label": 2}\n'
    config = write_files(tmp_path, rows, rows)
    config = DataConfig(train=config.train, eval=config.eval, text_column="premise", text_pair_column="hypothesis")

    dataset = load_dataset(config, num_labels=3)

    assert dataset.train.text_pairs == ("b",)
    assert dataset.train.labels == (2,)


def test_label_names_map_in_sorted_order(tmp_path: Path) -> None:
    train = '{"text": "a", "label": "positive"}\n{"text": "b", "label": "negative"}\n'
    eval_text = '{"text": "c", "label": "neutral"}\n'

    dataset = load_dataset(write_files(tmp_path, train, eval_text), num_labels=3)

    assert dataset.label_names == ("negative", "neutral", "positive")
    assert dataset.train.labels == (2, 0)
    assert dataset.eval.labels == (1,)


def test_integer_labels_from_csv_text(tmp_path: Path) -> None:
    config = write_files(tmp_path, "text,label\na, 1\nb,0\n", "text,label\nc,1\n", suffix=".csv")

    dataset = load_dataset(config, num_labels=2)

    assert dataset.label_names is None
    assert dataset.train.labels == (1, 0)


def test_row_limits(tmp_path: Path) -> None:
    config = write_files(tmp_path, JSONL_TRAIN, JSONL_EVAL)
    config = DataConfig(train=config.train, eval=config.eval, max_train_rows=2, max_eval_rows=1)

    dataset = load_dataset(config, num_labels=2)

    assert len(dataset.train) == 2
    assert len(dataset.eval) == 1


def test_dataset_hash_follows_content_not_path(tmp_path: Path) -> None:
    config = write_files(tmp_path, JSONL_TRAIN, JSONL_EVAL)
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(config.train, moved / "train.jsonl")
    shutil.copy(config.eval, moved / "eval.jsonl")

    original = dataset_hash(config)

    assert dataset_hash(DataConfig(train=moved / "train.jsonl", eval=moved / "eval.jsonl")) == original
    assert dataset_hash(DataConfig(train=config.train, eval=config.eval, max_train_rows=1)) != original
    assert dataset_hash(DataConfig(train=config.train, eval=config.eval, text_column="sentence")) != original
    assert dataset_hash(DataConfig(train=config.eval, eval=config.train)) != original
    config.eval.write_text(JSONL_EVAL + '{"text": "new", "label": 0}\n', encoding="utf-8")
    assert dataset_hash(config) != original


@pytest.mark.parametrize(
    ("train", "suffix", "num_labels", "match"),
    [
        (None, ".jsonl", 2, r"data\.train: file not found: .*train\.jsonl; check the path"),
        ("", ".jsonl", 2, r"data\.train .*train\.jsonl: the file has no data rows"),
        ("text,label\n", ".csv", 2, r"the file has no data rows"),
        ('{"text": "a", "label": 1}\n{"text": "b", label: 0}\n', ".jsonl", 2, r"train\.jsonl line 2 column 15: invalid JSON"),
        ('["a", 1]\n', ".jsonl", 2, r"line 1: expected a JSON object, got list"),
        ('{"sentence": "a", "label": 1}\n', ".jsonl", 2, r"line 1: column 'text' not found; available columns: sentence, label"),
        ("text,label\na,0\nb,5\n", ".csv", 2, r"line 3 column 'label': label 5 is out of range for model\.num_labels = 2 \(expected 0\.\.1\)"),
        ('{"text": "a", "label": -1}\n', ".jsonl", 2, r"label -1 is out of range"),
        ('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": "c", "label": "z"}\n', ".jsonl", 2,
         r"the files contain 5 label names \(0, 1, x, y, z\) but model\.num_labels = 2; set model\.num_labels to 5"),
        ('{"text": null, "label": 1}\n', ".jsonl", 2, r"line 1 column 'text': expected text, got null"),
        ('{"text": "a", "label": true}\n', ".jsonl", 2, r"column 'label': expected an integer label or a label name, got bool True"),
        ("text,label\na\n", ".csv", 2, r"line 2 column 'label': value missing"),
        ("text,label\na,1,extra\n", ".csv", 2, r"line 2: the row has more fields than the header"),
        ('{"text": "a", "label": 1}\n', ".txt", 2, r"data\.format: cannot tell the format of .*train\.txt"),
    ],
)
def test_dataset_errors(
    tmp_path: Path, train: str | None, suffix: str, num_labels: int, match: str
) -> None:
    config = write_files(tmp_path, train or "", JSONL_EVAL, suffix=suffix)
    if train is None:
        config.train.unlink()
    if suffix != ".jsonl":
        config = DataConfig(train=config.train, eval=tmp_path / "eval.jsonl")
        config.eval.write_text(JSONL_EVAL, encoding="utf-8")

    with pytest.raises(DatasetError, match=match):
        load_dataset(config, num_labels=num_labels)


def test_missing_eval_file_names_field(tmp_path: Path) -> None:
    config = write_files(tmp_path, JSONL_TRAIN, JSONL_EVAL)
    config.eval.unlink()

    with pytest.raises(DatasetError, match=r"data\.eval: file not found"):
        dataset_hash(config)


def test_invalid_utf8(tmp_path: Path) -> None:
    config = write_files(tmp_path, JSONL_TRAIN, JSONL_EVAL)
    config.train.write_bytes(b'{"text": "caf\xe9", "label": 1}\n')

    with pytest.raises(DatasetError, match=r"not valid UTF-8 .*save the file as UTF-8"):
        load_dataset(config, num_labels=2)
