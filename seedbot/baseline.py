"""Stored baselines: the versioned JSON layout, pool merging, and the local store.

`merge_run` and the (de)serialisers are pure, so the GitHub store reuses them
for its optimistic-lock retry.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol

from seedbot.errors import BaselineError, SeedbotError
from seedbot.files import write_text_atomically
from seedbot.formatting import plural
from seedbot.log import logger
from seedbot.provenance import differences
from seedbot.scorecard import Scorecard, SweepResult, scorecard_problems

SCHEMA_VERSION = 1
DEFAULT_DIRECTORY = Path(".seedbot/baselines")
POOL_MAX_RUNS = 5
HISTORY_MAX_RUNS = 20

# Config names become file names: no path separators, no leading dot, no spaces.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_REBUILD_HINT = "delete or restore the file, then run `seedbot baseline save` to write a new baseline"


@dataclass(frozen=True, kw_only=True)
class BaselineRun:
    """One sweep saved as (part of) a baseline."""

    commit: str | None
    created_at: str  # ISO 8601, UTC
    config_hash: str
    dataset_hash: str
    provenance: Mapping[str, str | None]
    scorecards: tuple[Scorecard, ...]

    @classmethod
    def from_sweep(cls, sweep: SweepResult, *, created_at: str) -> "BaselineRun":
        return cls(
            commit=sweep.commit,
            created_at=created_at,
            config_hash=sweep.config_hash,
            dataset_hash=sweep.dataset_hash,
            provenance=dict(sweep.provenance),
            scorecards=tuple(sweep.scorecards),
        )


@dataclass(frozen=True, kw_only=True)
class Baseline:
    config_name: str
    pool: tuple[BaselineRun, ...]  # current regime, most recent first; never empty
    history: tuple[BaselineRun, ...] = ()  # earlier regimes, most recent first

    def __post_init__(self) -> None:
        if not self.pool:
            raise BaselineError(f"baseline {self.config_name!r}: the pool is empty; a baseline needs at least one run")

    @property
    def latest(self) -> BaselineRun:
        return self.pool[0]

    def scores(self, metric: str) -> dict[tuple[int, int], float]:
        """Map (run index in pool, seed) -> score over the ok seeds of the whole pool."""
        return {
            (index, card.seed): float(card.metrics[metric])
            for index, run in enumerate(self.pool)
            for card in run.scorecards
            if card.status == "ok" and metric in card.metrics
        }

    def latest_scores(self, metric: str) -> dict[int, float]:
        """Map seed -> score for the most recent run (used for pairing)."""
        return {
            card.seed: float(card.metrics[metric])
            for card in self.latest.scorecards
            if card.status == "ok" and metric in card.metrics
        }


def regime_changes(before: BaselineRun, after: BaselineRun) -> list[str]:
    """List what differs between two runs' regimes: score-affecting provenance and the hashes."""
    changes = differences(before.provenance, after.provenance)
    if before.config_hash != after.config_hash:
        changes.append(f"config_hash {before.config_hash[:12]} -> {after.config_hash[:12]}")
    if before.dataset_hash != after.dataset_hash:
        changes.append(f"dataset_hash {before.dataset_hash[:12]} -> {after.dataset_hash[:12]}")
    return changes


def merge_run(
    baseline: Baseline | None,
    run: BaselineRun,
    *,
    config_name: str,
    new_pool: bool = False,
    pool_max: int = POOL_MAX_RUNS,
    history_max: int = HISTORY_MAX_RUNS,
) -> Baseline:
    """Add `run`: into the current pool when provenance and hashes match, else start a new pool.

    A pool never mixes regimes, so an old environment cannot widen σ. Runs that
    leave the pool (overflow past `pool_max`, or a whole pool replaced by a new
    regime) move to the front of the history, which keeps `history_max` runs.
    A run of the same sweep as one already in the pool (equal commit, config_hash,
    dataset_hash and seeds) replaces it, so saving a sweep twice does not count
    its seeds twice and shrink σ.
    """
    if pool_max < 1 or history_max < 0:
        raise ValueError(f"pool_max must be >= 1 and history_max >= 0, got {pool_max} and {history_max}")
    if baseline is None:
        logger.info("baseline %s: first run (commit %s) starts the pool", config_name, run.commit)
        return Baseline(config_name=config_name, pool=(run,))

    changes = regime_changes(baseline.latest, run)
    if new_pool or changes:
        reason = "an accepted improvement" if new_pool else "; ".join(changes)
        logger.info("baseline %s: run (commit %s) starts a new pool because of %s", config_name, run.commit, reason)
        pool: tuple[BaselineRun, ...] = (run,)
        history = baseline.pool + baseline.history
    else:
        repeats = [stored for stored in baseline.pool if _same_sweep(stored, run)]
        for stored in repeats:
            logger.warning(
                "baseline %s: run (commit %s, seeds %s) repeats the pool's run saved %s, so it replaces that run "
                "instead of counting the same seeds twice",
                config_name, run.commit, list(_seeds(run)), stored.created_at,
            )
        grown = (run,) + tuple(stored for stored in baseline.pool if not _same_sweep(stored, run))
        pool, overflow = grown[:pool_max], grown[pool_max:]
        history = overflow + baseline.history
        logger.info("baseline %s: run (commit %s) joins the pool, now %s", config_name, run.commit, plural(len(pool), "run"))
    return Baseline(config_name=config_name, pool=pool, history=history[:history_max])


def _seeds(run: BaselineRun) -> tuple[int, ...]:
    return tuple(sorted(card.seed for card in run.scorecards))


def _same_sweep(first: BaselineRun, second: BaselineRun) -> bool:
    """Tell whether two runs are saves of the same sweep: equal commit, hashes and seeds."""
    return (
        first.commit == second.commit
        and first.config_hash == second.config_hash
        and first.dataset_hash == second.dataset_hash
        and _seeds(first) == _seeds(second)
    )


# --- serialisation -------------------------------------------------------------------


def _run_to_dict(run: BaselineRun) -> dict[str, Any]:
    return {
        "commit": run.commit,
        "created_at": run.created_at,
        "config_hash": run.config_hash,
        "dataset_hash": run.dataset_hash,
        "provenance": dict(run.provenance),
        "scorecards": [card.to_dict() for card in run.scorecards],
    }


def baseline_to_dict(baseline: Baseline) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "config_name": baseline.config_name,
        "pool": [_run_to_dict(run) for run in baseline.pool],
        "history": [_run_to_dict(run) for run in baseline.history],
    }


_TOP_KEYS = {"schema_version": int, "config_name": str, "pool": list}
_OPTIONAL_TOP_KEYS = {"history": list}
_RUN_KEYS = {
    "commit": (str, type(None)),
    "created_at": str,
    "config_hash": str,
    "dataset_hash": str,
    "provenance": dict,
    "scorecards": list,
}
# Scorecard.to_dict also writes the scorecard's own schema_version.
_SCORECARD_KEYS = {field.name for field in dataclasses.fields(Scorecard)} | {"schema_version"}
_SCORECARD_REQUIRED = {
    field.name
    for field in dataclasses.fields(Scorecard)
    if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
}


_JSON_TYPES = {
    int: "an integer",
    str: "a string",
    list: "an array",
    dict: "an object",
    (str, type(None)): "a string or null",
}


def _type_name(value: Any) -> str:
    """Name a parsed JSON value's type the way JSON does."""
    names = {type(None): "null", bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "an array", dict: "an object"})
    return names.get(type(value), type(value).__name__)


class _Reader:
    """Collects every problem in a stored baseline, so one error names them all."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.missing: list[str] = []
        self.invalid: list[str] = []
        self.unknown: list[str] = []

    def check_keys(self, raw: Mapping[str, Any], path: str, required: set[str], allowed: set[str]) -> None:
        prefix = f"{path}." if path else ""
        self.missing += [prefix + key for key in sorted(required - set(raw))]
        self.unknown += [prefix + str(key) for key in raw if key not in allowed]

    def check_types(self, raw: Mapping[str, Any], path: str, types: Mapping[str, type | tuple[type, ...]]) -> bool:
        prefix = f"{path}." if path else ""
        valid = True
        for key, expected in types.items():
            if key not in raw:
                continue
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, expected):
                self.invalid.append(f"{prefix}{key} must be {_JSON_TYPES[expected]}, got {_type_name(value)}")
                valid = False
        return valid

    def read_run(self, raw: Any, path: str) -> BaselineRun | None:
        if not isinstance(raw, dict):
            self.invalid.append(f"{path} must be an object, got {_type_name(raw)}")
            return None
        self.check_keys(raw, path, set(_RUN_KEYS), set(_RUN_KEYS))
        if not self.check_types(raw, path, _RUN_KEYS) or set(_RUN_KEYS) - set(raw):
            return None
        for key, value in raw["provenance"].items():
            if not isinstance(value, (str, type(None))):
                self.invalid.append(f"{path}.provenance.{key} must be a string or null, got {_type_name(value)}")
                return None
        cards = [self.read_scorecard(card, f"{path}.scorecards[{index}]") for index, card in enumerate(raw["scorecards"])]
        if any(card is None for card in cards):
            return None
        return BaselineRun(
            commit=raw["commit"],
            created_at=raw["created_at"],
            config_hash=raw["config_hash"],
            dataset_hash=raw["dataset_hash"],
            provenance=dict(raw["provenance"]),
            scorecards=tuple(cards),
        )

    def read_scorecard(self, raw: Any, path: str) -> Scorecard | None:
        if not isinstance(raw, dict):
            self.invalid.append(f"{path} must be an object, got {_type_name(raw)}")
            return None
        self.check_keys(raw, path, _SCORECARD_REQUIRED, _SCORECARD_KEYS)
        if _SCORECARD_REQUIRED - set(raw):
            return None
        problems = scorecard_problems(raw)
        if problems:
            self.invalid += [f"{path}.{problem}" for problem in problems]
            return None
        try:
            return Scorecard.from_dict({key: value for key, value in raw.items() if key in _SCORECARD_KEYS})
        except (SeedbotError, KeyError, TypeError, ValueError, AttributeError) as error:
            self.invalid.append(f"{path} is not a valid scorecard ({error})")
            return None

    def raise_problems(self) -> None:
        if self.unknown:
            logger.warning(
                "%s: ignoring unknown keys %s (written by a newer seedbot, or edited by hand)",
                self.source,
                ", ".join(self.unknown),
            )
        problems = []
        if self.missing:
            problems.append("missing keys " + ", ".join(self.missing))
        problems += self.invalid
        if problems:
            raise BaselineError(f"{self.source}: invalid baseline: {'; '.join(problems)}; {_REBUILD_HINT}")


def baseline_from_dict(raw: Mapping[str, Any], *, source: str) -> Baseline:
    """Validate a stored baseline: unknown keys warn, missing keys raise BaselineError naming them."""
    if not isinstance(raw, Mapping):
        raise BaselineError(f"{source}: invalid baseline: expected a JSON object, got {_type_name(raw)}; {_REBUILD_HINT}")
    version = raw.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise BaselineError(
            f"{source}: schema_version {version} is newer than this seedbot reads (up to {SCHEMA_VERSION}); "
            "upgrade seedbot to read this baseline"
        )

    reader = _Reader(source)
    all_types = {**_TOP_KEYS, **_OPTIONAL_TOP_KEYS}
    reader.check_keys(raw, "", set(_TOP_KEYS), set(all_types))
    if reader.check_types(raw, "", all_types) and isinstance(version, int) and version < 1:
        reader.invalid.append(f"schema_version must be 1 or more, got {version}")
    runs: dict[str, list[BaselineRun | None]] = {"pool": [], "history": []}
    for key, read in runs.items():
        stored = raw.get(key)
        if isinstance(stored, list):
            read += [reader.read_run(run, f"{key}[{index}]") for index, run in enumerate(stored)]
    if isinstance(raw.get("pool"), list) and not raw["pool"]:
        reader.invalid.append("pool is empty, but a baseline needs at least one run")
    reader.raise_problems()

    return Baseline(config_name=raw["config_name"], pool=tuple(runs["pool"]), history=tuple(runs["history"]))


# --- storage -------------------------------------------------------------------------


def baseline_from_text(text: str, *, source: str, config_name: str, fix: str) -> Baseline:
    """Parse a stored baseline file's text and check that it belongs to `config_name`.

    `source` names the file in errors and `fix` is the advice for invalid JSON.
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(
            f"{source}: invalid JSON ({error.msg} at line {error.lineno}, column {error.colno}); {fix}"
        ) from error
    baseline = baseline_from_dict(raw, source=source)
    if baseline.config_name != config_name:
        raise BaselineError(
            f"{source}: contains config_name {baseline.config_name!r}, expected {config_name!r}; "
            "rename the file or fix its config_name"
        )
    return baseline


class BaselineStore(Protocol):
    def load(self, config_name: str) -> Baseline | None: ...

    def save(self, config_name: str, run: BaselineRun, *, new_pool: bool = False) -> Baseline: ...


def check_config_name(config_name: str) -> str:
    """Return `config_name` if it is safe as a file name, else raise BaselineError."""
    if not _SAFE_NAME.fullmatch(config_name):
        raise BaselineError(
            f"config name {config_name!r}: invalid as a baseline file name; use 1 to 128 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return config_name


class LocalBaselineStore:
    """One JSON file per config name in a directory (`.seedbot/baselines/` by default)."""

    def __init__(self, directory: Path = DEFAULT_DIRECTORY) -> None:
        self.directory = directory

    def path(self, config_name: str) -> Path:
        return Path(self.directory) / f"{check_config_name(config_name)}.json"

    def load(self, config_name: str) -> Baseline | None:
        path = self.path(config_name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            logger.info("no baseline for config %s at %s", config_name, path)
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise BaselineError(f"{path}: cannot read the baseline ({error}); check the file's permissions") from error
        return baseline_from_text(text, source=str(path), config_name=config_name, fix=_REBUILD_HINT)

    def save(self, config_name: str, run: BaselineRun, *, new_pool: bool = False) -> Baseline:
        """Merge `run` into the stored baseline and write it atomically.

        A file that cannot be parsed raises BaselineError from `load` and is left untouched.
        """
        merged = merge_run(self.load(config_name), run, config_name=config_name, new_pool=new_pool)
        path = self.path(config_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps(baseline_to_dict(merged), indent=2) + "\n")
        logger.info("saved baseline %s to %s (%s in the pool)", config_name, path, plural(len(merged.pool), "run"))
        return merged

