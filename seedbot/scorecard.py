"""Per-seed scorecards and the sweep result that aggregates them.

Both are written as JSON with a `schema_version`. Readers warn on unknown
keys and raise SeedbotError naming missing ones.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from seedbot.errors import SeedbotError
from seedbot.files import write_text_atomically
from seedbot.log import logger

SCHEMA_VERSION = 1
Status = Literal["ok", "failed"]


@dataclass(frozen=True, kw_only=True)
class Scorecard:
    seed: int
    status: Status
    metrics: Mapping[str, float]  # empty when failed; never contains NaN for an ok seed
    duration_s: float
    config_hash: str
    dataset_hash: str
    provenance: Mapping[str, str | None]  # python, torch, transformers, peft, device, cuda, cpu_capability, ...
    error: str | None = None  # one line: the exception type and message, for a failed seed

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "seed": self.seed,
            "status": self.status,
            "metrics": dict(self.metrics),
            "duration_s": self.duration_s,
            "config_hash": self.config_hash,
            "dataset_hash": self.dataset_hash,
            "provenance": dict(self.provenance),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Scorecard":
        fields = _check_keys("scorecard", raw, required=_SCORECARD_REQUIRED, optional=("error",))
        problems = scorecard_problems(fields)
        if problems:
            raise SeedbotError(
                f"scorecard for seed {fields['seed']!r}: {'; '.join(problems)}; "
                "the file was edited or damaged, so rerun the sweep to write it again"
            )
        return cls(
            seed=int(fields["seed"]),
            status=fields["status"],
            metrics={name: float(value) for name, value in fields["metrics"].items()},
            duration_s=float(fields["duration_s"]),
            config_hash=fields["config_hash"],
            dataset_hash=fields["dataset_hash"],
            provenance=dict(fields["provenance"]),
            error=fields.get("error"),
        )


@dataclass(frozen=True, kw_only=True)
class SweepResult:
    config_name: str
    config_hash: str
    dataset_hash: str
    scorecards: tuple[Scorecard, ...]
    provenance: Mapping[str, str | None]
    commit: str | None = None
    stop_reason: str | None = None  # adaptive sweeps: why it stopped after fewer seeds
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> tuple[Scorecard, ...]:
        return tuple(card for card in self.scorecards if card.status == "ok")

    @property
    def failed(self) -> tuple[Scorecard, ...]:
        return tuple(card for card in self.scorecards if card.status != "ok")

    @property
    def missing(self) -> tuple[int, ...]:
        """Planned seeds (`extra["seeds"]`) without a scorecard; none after an adaptive early stop, which skips them on purpose."""
        if self.stop_reason is not None or not self.extra:
            return ()
        ran = {card.seed for card in self.scorecards}
        return tuple(seed for seed in self.extra.get("seeds", ()) if isinstance(seed, int) and seed not in ran)

    def scores(self, metric: str) -> dict[int, float]:
        """Map seed -> score for the ok seeds that have `metric`."""
        return {card.seed: float(card.metrics[metric]) for card in self.ok if metric in card.metrics}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "config_name": self.config_name,
            "config_hash": self.config_hash,
            "dataset_hash": self.dataset_hash,
            "commit": self.commit,
            "stop_reason": self.stop_reason,
            "provenance": dict(self.provenance),
            "extra": dict(self.extra),
            "scorecards": [card.to_dict() for card in self.scorecards],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "SweepResult":
        fields = _check_keys(
            "sweep result", raw, required=_RESULT_REQUIRED, optional=("commit", "stop_reason", "extra")
        )
        return cls(
            config_name=fields["config_name"],
            config_hash=fields["config_hash"],
            dataset_hash=fields["dataset_hash"],
            scorecards=tuple(Scorecard.from_dict(card) for card in fields["scorecards"]),
            provenance=dict(fields["provenance"]),
            commit=fields.get("commit"),
            stop_reason=fields.get("stop_reason"),
            extra=dict(fields.get("extra") or {}),
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    """Name a parsed JSON value for an error: its type, and the value itself when it is short."""
    kind = {type(None): "null", bool: "a boolean", str: "a string", list: "an array", dict: "an object"}.get(type(value))
    if kind is None:
        return repr(value)
    return f"{kind} {value!r}" if isinstance(value, (str, bool)) and len(repr(value)) <= 40 else kind


def scorecard_problems(raw: Mapping[str, Any]) -> list[str]:
    """List what is invalid in a parsed scorecard, each problem starting with its key (`metrics.accuracy ...`).

    Keys that are absent are not listed (the key check names them). Numbers must
    be JSON numbers, not strings or booleans, and finite; seeds and durations
    must not be negative.
    """
    problems = []
    seed = raw.get("seed", 0)
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        problems.append(f"seed must be a non-negative integer, got {_describe(seed)}")
    if raw.get("status", "ok") not in ("ok", "failed"):
        problems.append(f"status must be ok or failed, got {_describe(raw['status'])}")
    metrics = raw.get("metrics", {})
    if not isinstance(metrics, Mapping):
        problems.append(f"metrics must be an object, got {_describe(metrics)}")
    else:
        for name, value in metrics.items():
            if not (_is_number(value) and math.isfinite(value)):
                problems.append(f"metrics.{name} must be a finite number, got {_describe(value)}")
    duration = raw.get("duration_s", 0.0)
    if not (_is_number(duration) and math.isfinite(duration) and duration >= 0):
        problems.append(f"duration_s must be a finite number >= 0, got {_describe(duration)}")
    for key in ("config_hash", "dataset_hash"):
        if key in raw and not isinstance(raw[key], str):
            problems.append(f"{key} must be a string, got {_describe(raw[key])}")
    provenance = raw.get("provenance", {})
    if not isinstance(provenance, Mapping):
        problems.append(f"provenance must be an object, got {_describe(provenance)}")
    else:
        problems += [f"provenance.{key} must be a string or null, got {_describe(value)}"
                     for key, value in provenance.items() if not isinstance(value, (str, type(None)))]
    if not isinstance(raw.get("error"), (str, type(None))):
        problems.append(f"error must be a string or null, got {_describe(raw['error'])}")
    return problems


_SCORECARD_REQUIRED = ("seed", "status", "metrics", "duration_s", "config_hash", "dataset_hash", "provenance")
_RESULT_REQUIRED = ("config_name", "config_hash", "dataset_hash", "scorecards", "provenance")


def _check_keys(
    what: str, raw: Mapping[str, Any], *, required: tuple[str, ...], optional: tuple[str, ...]
) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise SeedbotError(f"{what}: expected a JSON object, got {type(raw).__name__}")
    version = raw.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise SeedbotError(
            f"{what}: schema_version {version!r} is not supported (this seedbot reads {SCHEMA_VERSION}); "
            "rerun the sweep with this seedbot version"
        )
    missing = [key for key in required if key not in raw]
    if missing:
        raise SeedbotError(f"{what}: missing keys {', '.join(missing)}; the file is truncated or not a seedbot result")
    unknown = sorted(set(raw) - set(required) - set(optional) - {"schema_version"})
    if unknown:
        logger.warning("%s: ignoring unknown keys %s (written by a newer seedbot?)", what, ", ".join(unknown))
    return raw


def write_scorecard(card: Scorecard, directory: Path) -> Path:
    """Write `seed-<n>.json` atomically (temp file + os.replace) and return its path."""
    return _write_json_atomic(card.to_dict(), Path(directory) / f"seed-{card.seed}.json")


def write_results(result: SweepResult, path: Path) -> Path:
    """Write the aggregated results file atomically."""
    return _write_json_atomic(result.to_dict(), Path(path))


def read_results(path: Path) -> SweepResult:
    """Read a results file written by write_results; raise SeedbotError naming the file when it is unusable."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SeedbotError(f"results file not found: {path}; run `seedbot sweep` first or check the path") from exc
    except json.JSONDecodeError as exc:
        raise SeedbotError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from exc
    try:
        return SweepResult.from_dict(raw)
    except SeedbotError as exc:
        raise SeedbotError(f"{path}: {exc}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise SeedbotError(f"{path}: invalid sweep result ({type(exc).__name__}: {exc})") from exc


def _write_json_atomic(payload: Mapping[str, Any], path: Path) -> Path:
    text = json.dumps(payload, indent=2, allow_nan=False, default=_json_default) + "\n"
    return write_text_atomically(path, text)


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as JSON")
