"""Baselines stored as JSON files on a dedicated branch of the repository, via the contents API.

Each config's baseline is one file, `<directory>/<config name>.json`, on a branch
(default `seedbot-baselines`) that is created from the default branch's head on
first save. Writes send the blob SHA that was read, so GitHub rejects a write
based on stale content (HTTP 409, or 422 when a file appeared that was absent).
Then the store rereads the file, merges its run into the fresh baseline with
`merge_run`, and tries again. So a concurrent write never drops a run silently:
each save either stores its run or raises BaselineError after `max_attempts` conflicts.
"""

from __future__ import annotations

import json
import random
import time
from typing import Callable

from seedbot.baseline import (
    Baseline,
    BaselineRun,
    baseline_from_text,
    baseline_to_dict,
    check_config_name,
    merge_run,
)
from seedbot.errors import BaselineError, GitHubError
from seedbot.github import FileConflict, GitHubClient
from seedbot.log import logger

DEFAULT_BRANCH = "seedbot-baselines"
DEFAULT_DIRECTORY = ".seedbot/baselines"
DEFAULT_MAX_ATTEMPTS = 20


class GitHubBaselineStore:
    """A BaselineStore on a branch of the repository that the client points to."""

    def __init__(
        self,
        client: GitHubClient,
        branch: str = DEFAULT_BRANCH,
        directory: str = DEFAULT_DIRECTORY,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_s: float = 0.5,
        backoff_max_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Configure where baselines live and how conflicting writes are retried.

        `max_attempts` bounds the writes tried for one save. After a conflict the store
        waits a random time of up to `backoff_s * 2**attempt` seconds, capped at
        `backoff_max_s` ("full jitter"), so writers that collided spread out.
        """
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.client = client
        self.branch = branch
        self.directory = directory.strip("/")
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._branch_ready = False

    def __repr__(self) -> str:
        return f"GitHubBaselineStore({self.client.repository}@{self.branch}:{self.directory})"

    def path(self, config_name: str) -> str:
        """Return the file path that stores `config_name`'s baseline."""
        return f"{self.directory}/{check_config_name(config_name)}.json"

    def load(self, config_name: str) -> Baseline | None:
        """Return the stored baseline, or None when the branch or the file does not exist."""
        found = self.client.read_file_with_sha(self.path(config_name), self.branch)
        if found is None:
            logger.info("no baseline for config %s on branch %s", config_name, self.branch)
            return None
        return self._parse(config_name, found[0])

    def save(self, config_name: str, run: BaselineRun, *, new_pool: bool = False) -> Baseline:
        """Merge `run` into the stored baseline and write it; return what was written.

        Raises BaselineError when every one of `max_attempts` writes met a newer file.
        """
        path = self.path(config_name)
        self._ensure_branch()
        for attempt in range(1, self.max_attempts + 1):
            found = self.client.read_file_with_sha(path, self.branch)
            current = None if found is None else self._parse(config_name, found[0])
            if current is not None and _contains(current, run):
                # An earlier write of this run landed although its response was an error.
                logger.info("baseline %s already contains the run of %s", config_name, run.created_at)
                return current
            merged = merge_run(current, run, config_name=config_name, new_pool=new_pool)
            text = json.dumps(baseline_to_dict(merged), indent=2, sort_keys=True) + "\n"
            message = f"seedbot: save baseline for {config_name} ({run.commit or 'no commit'})"
            read_sha = None if found is None else found[1]
            try:
                self.client.write_file(path, text, message=message, branch=self.branch, sha=read_sha)
            except FileConflict:
                wait = self._rng.uniform(0, min(self.backoff_max_s, self.backoff_s * 2**attempt))
                logger.info(
                    "baseline %s changed during save (attempt %d of %d); rereading in %.2f s",
                    config_name,
                    attempt,
                    self.max_attempts,
                    wait,
                )
                self._sleep(wait)
                continue
            logger.info("saved baseline %s on branch %s (attempt %d)", config_name, self.branch, attempt)
            return merged
        raise BaselineError(
            f"saving baseline {config_name} to {path} on branch {self.branch} failed: the file changed "
            f"before each of {self.max_attempts} writes. Too many jobs save at once; rerun this job, "
            "or serialise baseline saves with a workflow `concurrency` group"
        )

    def _ensure_branch(self) -> None:
        if self._branch_ready:
            return
        if self.client.branch_head(self.branch) is None:
            default = self.client.default_branch()
            base = self.client.branch_head(default)
            if base is None:
                raise GitHubError(
                    f"creating baseline branch {self.branch} failed: default branch {default} has no commit "
                    "to start it from; push a first commit"
                )
            if not self.client.create_branch(self.branch, base):
                logger.info("baseline branch %s was created by another job", self.branch)
        self._branch_ready = True

    def _parse(self, config_name: str, text: str) -> Baseline:
        source = f"{self.branch}:{self.path(config_name)}"
        return baseline_from_text(text, source=source, config_name=config_name, fix="fix or delete the file on the branch")


def _run_key(run: BaselineRun) -> tuple[str | None, str, str, str]:
    return (run.commit, run.created_at, run.config_hash, run.dataset_hash)


def _contains(baseline: Baseline, run: BaselineRun) -> bool:
    key = _run_key(run)
    return any(_run_key(stored) == key for stored in (*baseline.pool, *baseline.history))
