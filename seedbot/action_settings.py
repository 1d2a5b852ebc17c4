"""The Action's settings: the GitHub Actions environment and the inputs of action.yml, validated once.

`ActionSettings.from_environ` is the only place that reads the environment,
and it receives the mapping as an argument, so nothing is read at import time.
Every invalid input raises ConfigError naming the input, the value and what
is allowed.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from seedbot.errors import ConfigError
from seedbot.verdict import Verdict

DEFAULT_CONFIG = ".seedbot.yml"
DEFAULT_STORE = "branch:seedbot-baselines"


class FailOn(str, enum.Enum):
    """Policy for the verdicts that fail the job (exit code 1) and the commit status."""

    REGRESSION = "regression"
    REGRESSION_OR_INCONCLUSIVE = "regression-or-inconclusive"
    NEVER = "never"

    def fails(self, verdict: Verdict) -> bool:
        if self is FailOn.NEVER:
            return False
        if verdict is Verdict.REGRESSED:
            return True
        return self is FailOn.REGRESSION_OR_INCONCLUSIVE and verdict in (Verdict.INCONCLUSIVE, Verdict.NO_BASELINE)


@dataclass(frozen=True, kw_only=True)
class StoreSpec:
    """Location of the baselines: `branch:<name>` (contents API) or `local:<directory>` (in the workspace)."""

    kind: str  # "branch" or "local"
    location: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.location}"


@dataclass(frozen=True, kw_only=True)
class ActionSettings:
    """Everything the Action reads from its environment, validated once."""

    token: str = field(repr=False)
    repository: str
    event_name: str
    event_path: Path
    sha: str | None = None
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    run_id: str | None = None
    output_path: Path | None = None  # GITHUB_OUTPUT
    summary_path: Path | None = None  # GITHUB_STEP_SUMMARY
    workspace: Path = Path(".")
    configs: tuple[Path, ...] = (Path(DEFAULT_CONFIG),)  # relative to the workspace, which is the repository root
    seeds: int | None = None
    fail_on: FailOn = FailOn.REGRESSION
    baseline_store: StoreSpec = StoreSpec(kind="branch", location="seedbot-baselines")
    comment: bool = True
    dry_run: bool = False

    @property
    def run_url(self) -> str | None:
        if not self.run_id:
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "ActionSettings":
        """Build the settings from GITHUB_* variables and the INPUT_* variables of action.yml."""

        def env(name: str) -> str | None:
            return environ.get(name) or None

        token = _input(environ, "token") or environ.get("GITHUB_TOKEN", "")
        if not token:
            raise ConfigError("token", "is empty; keep the default `${{ github.token }}` or pass an app token")
        repository = env("GITHUB_REPOSITORY")
        if repository is None or not re.fullmatch(r"[^/\s]+/[^/\s]+", repository):
            raise ConfigError("GITHUB_REPOSITORY", f"expected 'owner/name', got {repository!r}; run inside a GitHub Actions job")
        event_name = env("GITHUB_EVENT_NAME")
        event_path = env("GITHUB_EVENT_PATH")
        if event_name is None or event_path is None:
            raise ConfigError("GITHUB_EVENT_NAME", "GITHUB_EVENT_NAME and GITHUB_EVENT_PATH must be set; run inside a GitHub Actions job")

        workspace = Path(env("GITHUB_WORKSPACE") or ".")
        return cls(
            token=token,
            repository=repository,
            event_name=event_name,
            event_path=Path(event_path),
            sha=env("GITHUB_SHA"),
            api_url=env("GITHUB_API_URL") or "https://api.github.com",
            server_url=env("GITHUB_SERVER_URL") or "https://github.com",
            run_id=env("GITHUB_RUN_ID"),
            output_path=Path(environ["GITHUB_OUTPUT"]) if env("GITHUB_OUTPUT") else None,
            summary_path=Path(environ["GITHUB_STEP_SUMMARY"]) if env("GITHUB_STEP_SUMMARY") else None,
            workspace=workspace,
            configs=_parse_configs(_input(environ, "config")),
            seeds=_parse_seeds(_input(environ, "seeds")),
            fail_on=_parse_fail_on(_input(environ, "fail-on")),
            baseline_store=_parse_store(_input(environ, "baseline-store")),
            comment=_parse_bool("comment", _input(environ, "comment"), default=True),
            dry_run=_parse_bool("dry-run", _input(environ, "dry-run"), default=False),
        )


def _input(environ: Mapping[str, str], name: str) -> str:
    """Read an action input. The runner keeps hyphens (`INPUT_FAIL-ON`); some runners replace them."""
    key = "INPUT_" + name.replace(" ", "_").upper()
    value = environ.get(key)
    if value is None:
        value = environ.get(key.replace("-", "_"), "")
    return value.strip()


def _parse_configs(raw: str) -> tuple[Path, ...]:
    names = [part.strip() for part in re.split(r"[\n,]", raw) if part.strip()]
    if not names:
        return (Path(DEFAULT_CONFIG),)
    paths = []
    for name in names:
        path = Path(name)
        if path.is_absolute() or ".." in path.parts:
            raise ConfigError("config", f"{name!r} must be a path inside the repository, relative to its root, e.g. {DEFAULT_CONFIG}")
        paths.append(path)
    return tuple(dict.fromkeys(paths))


def _parse_seeds(raw: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError("seeds", f"must be a positive integer (the number of seeds to run), got {raw!r}; leave it empty to use the config's seeds")
    return int(raw)


def _parse_fail_on(raw: str) -> FailOn:
    if not raw:
        return FailOn.REGRESSION
    try:
        return FailOn(raw.lower())
    except ValueError:
        allowed = ", ".join(policy.value for policy in FailOn)
        raise ConfigError("fail-on", f"must be one of {allowed}, got {raw!r}") from None


def _parse_store(raw: str) -> StoreSpec:
    kind, _, location = (raw or DEFAULT_STORE).partition(":")
    location = location.strip()
    if kind not in ("branch", "local") or not location:
        raise ConfigError(
            "baseline-store",
            f"must be `branch:<branch name>` or `local:<directory>`, got {raw!r}; e.g. {DEFAULT_STORE} or local:.seedbot/baselines",
        )
    if kind == "local" and (Path(location).is_absolute() or ".." in Path(location).parts):
        raise ConfigError("baseline-store", f"local directory {location!r} must be relative to the repository root")
    return StoreSpec(kind=kind, location=location)


def _parse_bool(name: str, raw: str, *, default: bool) -> bool:
    if not raw:
        return default
    value = raw.lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise ConfigError(name, f"must be true or false, got {raw!r}")


def override_seeds(configured: Sequence[int], count: int) -> tuple[int, ...]:
    """Return `count` seeds: the first ones of the configured list, then the next unused integers.

    Keeping the configured seeds first lets a paired comparison still pair them with the baseline's.
    """
    seeds = list(configured[:count])
    candidate = max(configured, default=-1) + 1
    while len(seeds) < count:
        if candidate not in seeds:
            seeds.append(candidate)
        candidate += 1
    return tuple(seeds)

