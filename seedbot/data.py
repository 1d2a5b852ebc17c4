"""Train and eval files: JSONL, CSV or TSV rows mapped to text, text pair and label.

Labels are either integers 0..num_labels-1 or names. Names are mapped to ids
in sorted order over train and eval together, so "negative" -> 0 and
"positive" -> 1, and the mapping is recorded with the sweep result.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from seedbot.config import DataConfig
from seedbot.errors import DatasetError

FORMAT_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}
INTEGER_LABEL = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Split:
    """One file's rows after column mapping; `rows` keeps every column for custom evaluators."""

    texts: tuple[str, ...]
    text_pairs: tuple[str, ...] | None
    labels: tuple[int, ...]
    rows: tuple[Mapping[str, Any], ...]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def majority_accuracy(self) -> float:
        """Accuracy of always predicting the most frequent label: what a collapsed model scores."""
        counts = collections.Counter(self.labels)
        return max(counts.values()) / len(self.labels) if self.labels else 0.0


@dataclass(frozen=True)
class Dataset:
    train: Split
    eval: Split
    label_names: tuple[str, ...] | None  # id -> name when the files contain label names, else None


@dataclass(frozen=True)
class _Row:
    line: int
    values: Mapping[str, Any]


def resolve_format(path: Path, declared: str) -> str:
    """Return jsonl, csv or tsv: the declared format, or the one the file suffix implies."""
    if declared != "auto":
        return declared
    fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(
            f"data.format: cannot tell the format of {path} from its suffix {path.suffix!r}; "
            "set data.format to jsonl, csv or tsv"
        )
    return fmt


def load_dataset(config: DataConfig, *, num_labels: int) -> Dataset:
    """Read the train and eval files, map columns and labels, and check labels against num_labels."""
    train_rows = _read_rows("data.train", config.train, config, config.max_train_rows)
    eval_rows = _read_rows("data.eval", config.eval, config, config.max_eval_rows)
    label_names = _label_names([row.values[config.label_column] for row in train_rows + eval_rows])

    def to_split(field: str, path: Path, rows: list[_Row]) -> Split:
        labels = tuple(_label_id(field, path, row, config.label_column, label_names, num_labels) for row in rows)
        texts = tuple(_text(field, path, row, config.text_column) for row in rows)
        pairs = None
        if config.text_pair_column is not None:
            pairs = tuple(_text(field, path, row, config.text_pair_column) for row in rows)
        return Split(texts=texts, text_pairs=pairs, labels=labels, rows=tuple(row.values for row in rows))

    return Dataset(
        train=to_split("data.train", config.train, train_rows),
        eval=to_split("data.eval", config.eval, eval_rows),
        label_names=label_names,
    )


def dataset_hash(config: DataConfig) -> str:
    """sha256 hex over the train and eval file bytes, the column mapping and the row limits.

    The file paths are not hashed, so moving the files keeps the hash.
    """
    digest = hashlib.sha256()
    settings = {
        "format": config.format,
        "text_column": config.text_column,
        "text_pair_column": config.text_pair_column,
        "label_column": config.label_column,
        "max_train_rows": config.max_train_rows,
        "max_eval_rows": config.max_eval_rows,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for field, path in (("data.train", config.train), ("data.eval", config.eval)):
        _check_exists(field, path)
        digest.update(f"\n{field} {path.stat().st_size}\n".encode())
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _check_exists(field: str, path: Path) -> None:
    if not path.is_file():
        raise DatasetError(
            f"{field}: file not found: {path}; check the path "
            "(a relative path is resolved against the config file's directory)"
        )


def _read_rows(field: str, path: Path, config: DataConfig, limit: int | None) -> list[_Row]:
    _check_exists(field, path)
    fmt = resolve_format(path, config.format)
    required = [config.text_column, config.label_column]
    if config.text_pair_column is not None:
        required.append(config.text_pair_column)

    rows: list[_Row] = []
    try:
        reader = _iter_jsonl(field, path) if fmt == "jsonl" else _iter_delimited(field, path, fmt, required)
        for row in reader:
            if limit is not None and len(rows) >= limit:
                break
            missing = [column for column in required if column not in row.values]
            if missing:
                available = ", ".join(row.values) or "none"
                raise DatasetError(
                    f"{field} {path} line {row.line}: column {missing[0]!r} not found; "
                    f"available columns: {available}; set the data.*_column mapping to one of them"
                )
            rows.append(row)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{field} {path}: not valid UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8") from exc

    if not rows:
        raise DatasetError(f"{field} {path}: the file has no data rows; add rows or point {field} at another file")
    return rows


def _iter_jsonl(field: str, path: Path) -> Iterator[_Row]:
    with path.open(encoding="utf-8-sig") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"{field} {path} line {line_number} column {exc.colno}: invalid JSON ({exc.msg}); "
                    "each line must hold one JSON object"
                ) from exc
            if not isinstance(values, dict):
                raise DatasetError(
                    f"{field} {path} line {line_number}: expected a JSON object, got {type(values).__name__}; "
                    "each line must hold one JSON object"
                )
            yield _Row(line_number, values)


def _iter_delimited(field: str, path: Path, fmt: str, required: list[str]) -> Iterator[_Row]:
    # TSV files in the GLUE style contain bare quote characters inside text, so quoting is off for them.
    options: dict[str, Any] = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if fmt == "tsv" else {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, **options)
        try:
            for values in reader:
                if None in values:
                    raise DatasetError(
                        f"{field} {path} line {reader.line_num}: the row has more fields than the header "
                        f"({len(reader.fieldnames or [])} columns); check the delimiter and quoting"
                    )
                for column in required:
                    if column in values and values[column] is None:
                        raise DatasetError(
                            f"{field} {path} line {reader.line_num} column {column!r}: value missing "
                            "(the row has fewer fields than the header)"
                        )
                yield _Row(reader.line_num, values)
        except csv.Error as exc:
            raise DatasetError(f"{field} {path} line {reader.line_num}: invalid {fmt.upper()} ({exc})") from exc


def _text(field: str, path: Path, row: _Row, column: str) -> str:
    value = row.values[column]
    if not isinstance(value, str):
        raise DatasetError(
            f"{field} {path} line {row.line} column {column!r}: expected text, got {_describe(value)}"
        )
    return value


def _is_integer_label(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and INTEGER_LABEL.match(value.strip()) is not None


def _label_names(values: list[Any]) -> tuple[str, ...] | None:
    """Return the sorted label names, or None when every label is an integer."""
    if all(_is_integer_label(value) for value in values):
        return None
    return tuple(sorted({str(value) for value in values if isinstance(value, (str, int, float)) and not isinstance(value, bool)}))


def _label_id(
    field: str, path: Path, row: _Row, column: str, label_names: tuple[str, ...] | None, num_labels: int
) -> int:
    value = row.values[column]
    where = f"{field} {path} line {row.line} column {column!r}"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DatasetError(f"{where}: expected an integer label or a label name, got {_describe(value)}")

    if label_names is None:
        label = int(float(value)) if not isinstance(value, str) else int(value.strip())
        if not 0 <= label < num_labels:
            raise DatasetError(
                f"{where}: label {label} is out of range for model.num_labels = {num_labels} "
                f"(expected 0..{num_labels - 1}); fix the label or raise model.num_labels"
            )
        return label

    label = label_names.index(str(value))
    if len(label_names) > num_labels:
        raise DatasetError(
            f"{where}: the files contain {len(label_names)} label names ({', '.join(label_names)}) "
            f"but model.num_labels = {num_labels}; set model.num_labels to {len(label_names)}"
        )
    return label


def _describe(value: Any) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"
