"""The GitHub Action's work: `run` carries out what the event requests.

`run` receives the settings, the GitHub client, the baseline store and an
optional runner factory, so tests pass a client aimed at a local fake server.
It never reads `os.environ`; `ActionSettings.from_environ` does that once.

A pull request run reads top to bottom in `_gate_config`: load the config,
set the pending status, read the gate from the base branch, sweep and compare,
notice a moved head, render, then publish the comment, the status and the
check run. Publishing failures are logged and never hide the verdict, which
always reaches the job summary, the outputs and the exit code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from seedbot import pipeline
from seedbot.action_outputs import append_summary, comparison_outputs, write_outputs
from seedbot.action_settings import ActionSettings, FailOn, StoreSpec, override_seeds
from seedbot.baseline import BaselineStore, LocalBaselineStore
from seedbot.config import Config, DecisionConfig, load_config, parse_decision
from seedbot.errors import ConfigError, GitHubError, SeedbotError
from seedbot.events import EventPlan, PlanKind, PullRequestRef, load_payload, may_rerun, plan_event
from seedbot.github import CommitState, GitHubClient, status_context
from seedbot.log import logger
from seedbot.progress import ActionsProgress
from seedbot.report import ReportContext, comment_marker, render_comment, render_summary
from seedbot.scorecard import SweepResult
from seedbot.sweep import Progress, Runner
from seedbot.verdict import Comparison, Verdict, compare

# Worst first: the outputs describe the config whose verdict ranks first here.
VERDICT_SEVERITY = (Verdict.REGRESSED, Verdict.INCONCLUSIVE, Verdict.NO_BASELINE, Verdict.NO_CHANGE, Verdict.IMPROVED)

RunnerFactory = Callable[[Config], "Runner | None"]

__all__ = ["ActionSettings", "FailOn", "SeedShortfall", "StoreSpec", "append_summary", "make_store", "run", "seed_shortfall", "write_outputs"]


def make_store(settings: ActionSettings, client: GitHubClient) -> BaselineStore:
    """Build the baseline store that the `baseline-store` input names."""
    from seedbot.github_store import GitHubBaselineStore

    if settings.baseline_store.kind == "local":
        return LocalBaselineStore(settings.workspace / settings.baseline_store.location)
    return GitHubBaselineStore(client, branch=settings.baseline_store.location)


# --- verdict policy -------------------------------------------------------------------


@dataclass(frozen=True)
class SeedShortfall:
    """Candidate seeds that failed, and planned seeds that never ran, in one sweep."""

    failed: tuple[int, ...] = ()
    missing: tuple[int, ...] = ()
    planned: int = 0

    def __bool__(self) -> bool:
        return bool(self.failed or self.missing)

    def describe(self) -> str:
        """Return e.g. "2 of 5 seeds failed", "1 of 5 seeds never ran" or both, joined by "and"."""
        parts = []
        if self.failed:
            parts.append(f"{len(self.failed)} of {self.planned} seeds failed")
        if self.missing:
            parts.append(f"{len(self.missing)} of {self.planned} seeds never ran")
        return " and ".join(parts)


def seed_shortfall(sweep: SweepResult) -> SeedShortfall:
    """Find the failed seeds, and the planned seeds (`sweep.extra["seeds"]`) without a scorecard.

    An adaptive sweep that stopped early (`stop_reason` set) skipped its remaining
    seeds on purpose, so those do not count as missing.
    """
    ran = {card.seed for card in sweep.scorecards}
    planned = [seed for seed in sweep.extra.get("seeds", ()) if isinstance(seed, int)]
    failed = tuple(card.seed for card in sweep.failed)
    return SeedShortfall(failed=failed, missing=sweep.missing, planned=max(len(ran | set(planned)), len(sweep.scorecards)))


def commit_state(verdict: Verdict, fail_on: FailOn, shortfall: SeedShortfall = SeedShortfall()) -> CommitState:
    """Map a verdict to a status.

    A regression always fails. Failed or missing seeds give `error` for every fail-on
    setting, because a run never passes on seeds it did not score. Inconclusive and no
    baseline follow fail-on.
    """
    if verdict is Verdict.REGRESSED:
        return CommitState.FAILURE
    if shortfall:
        return CommitState.ERROR
    if verdict in (Verdict.INCONCLUSIVE, Verdict.NO_BASELINE) and fail_on is FailOn.REGRESSION_OR_INCONCLUSIVE:
        return CommitState.FAILURE
    return CommitState.SUCCESS


def check_conclusion(verdict: Verdict, state: CommitState) -> str:
    """Return the check-run conclusion: neutral for an inconclusive result that does not fail the gate."""
    if state in (CommitState.FAILURE, CommitState.ERROR):
        return "failure"
    return "neutral" if verdict in (Verdict.INCONCLUSIVE, Verdict.NO_BASELINE) else "success"


def exit_code(verdict: Verdict, fail_on: FailOn, shortfall: SeedShortfall = SeedShortfall()) -> int:
    """Return 1 when fail-on fails the step: on its verdicts, and on failed or missing seeds unless it is `never`."""
    if shortfall and fail_on is not FailOn.NEVER:
        return 1
    return 1 if fail_on.fails(verdict) else 0


def status_description(comparison: Comparison, fail_on: FailOn, shortfall: SeedShortfall = SeedShortfall()) -> str:
    """Build the commit-status description. The client cuts it to GitHub's 140 characters.

    The seed count comes first so that the cut never drops it.
    """
    verdict = comparison.verdict.value.replace("_", " ")
    if shortfall:
        return f"{shortfall.describe()}; {verdict}: {comparison.reason}"
    if comparison.verdict in (Verdict.INCONCLUSIVE, Verdict.NO_BASELINE) and not fail_on.fails(comparison.verdict):
        verdict += f" (passes: fail-on is {fail_on.value})"
    return f"{verdict}: {comparison.reason}"


def shortfall_note(shortfall: SeedShortfall, fail_on: FailOn) -> str:
    """Explain in the comment and the job summary why a run with failed or missing seeds does not pass."""
    seeds = []
    if shortfall.failed:
        seeds.append("failed: " + ", ".join(str(seed) for seed in shortfall.failed))
    if shortfall.missing:
        seeds.append("never ran: " + ", ".join(str(seed) for seed in shortfall.missing))
    consequence = "the step passes because fail-on is never" if fail_on is FailOn.NEVER else "the step fails"
    return (
        f"{shortfall.describe()} (seeds {'; '.join(seeds)}), so the commit status is `error` and {consequence}; "
        "a run never passes on seeds it did not score. Fix the failing seeds (see their errors) and rerun."
    )


# --- the run --------------------------------------------------------------------------


@dataclass
class ConfigResult:
    """Outcome of one config's run, for the outputs and the exit code."""

    config_name: str
    exit_code: int
    comparison: Comparison | None = None
    result_path: Path | None = None
    comment_url: str | None = None
    shortfall: SeedShortfall = SeedShortfall()
    baseline_saved: bool = False


def run(
    settings: ActionSettings,
    *,
    client: GitHubClient,
    store: BaselineStore,
    runner_factory: RunnerFactory | None = None,
    progress: Progress | None = None,
) -> int:
    """Carry out what the event requests and return the process exit code."""
    payload = load_payload(settings.event_path)
    plan = plan_event(settings.event_name, payload, sha=settings.sha)
    logger.info("%s: %s", settings.event_name, plan.reason)
    action = _ActionRun(settings, client=client, store=store, runner_factory=runner_factory, progress=progress or ActionsProgress())

    if plan.kind is PlanKind.SKIP:
        append_summary(settings.summary_path, f"### seedbot\n\nNothing ran: {plan.reason}.")
        write_outputs(settings.output_path, {"verdict": "skipped"})
        return 0
    _check_configs_exist(settings)
    if plan.kind is PlanKind.RERUN:
        return action.rerun(plan)
    if plan.kind is PlanKind.PULL_REQUEST:
        return action.gate_pull_request(plan.pull, seeds=settings.seeds)
    return action.sweep_ref(plan)


class _ActionRun:
    def __init__(
        self,
        settings: ActionSettings,
        *,
        client: GitHubClient,
        store: BaselineStore,
        runner_factory: RunnerFactory | None,
        progress: Progress,
    ) -> None:
        self.settings = settings
        self.client = client
        self.store = store
        self.runner_factory = runner_factory
        self.progress = progress

    # Events

    def rerun(self, plan: EventPlan) -> int:
        request, number = plan.rerun, plan.pull.number
        permission = self.client.permission(request.commenter)
        if not may_rerun(permission, None):
            logger.info("comment %s: %s has %s permission; rerun rejected", request.comment_id, request.commenter, permission)
            self._reply(
                number,
                f"@{request.commenter} `/seedbot rerun` can be started only by people with write, maintain or admin "
                f"permission on {self.settings.repository}; ask a maintainer to comment it.",
            )
            append_summary(self.settings.summary_path, f"### seedbot\n\nNothing ran: {request.commenter} may not rerun (permission {permission}).")
            write_outputs(self.settings.output_path, {"verdict": "skipped"})
            return 0

        if request.seeds_error is not None:
            self._react(request.comment_id, "confused")
            self._reply(number, f"@{request.commenter} {request.seeds_error}. Example: `/seedbot rerun seeds=8`.")
            raise ConfigError("comment", request.seeds_error)

        self._react(request.comment_id, "eyes")
        pull = self.client.get_pull(number)
        if pull.state != "open":
            self._reply(number, f"@{request.commenter} pull request #{number} is {pull.state}; nothing to rerun.")
            logger.info("pull request #%s is %s; rerun skipped", number, pull.state)
            append_summary(self.settings.summary_path, f"### seedbot\n\nNothing ran: pull request #{number} is {pull.state}.")
            write_outputs(self.settings.output_path, {"verdict": "skipped"})
            return 0
        # The workflow checked out the head some seconds ago; a push since then means
        # the workspace contains an older commit. The result belongs to what was swept,
        # and the stale-head check after the sweep then says the head moved.
        swept = workspace_commit(self.settings.workspace) or pull.head_sha
        if swept != pull.head_sha:
            logger.warning("pull request #%s: the workspace contains %s but the head is %s; sweeping the workspace commit",
                           number, swept, pull.head_sha)
        target = PullRequestRef(number=number, head_sha=swept, head_ref=pull.head_ref, base_ref=pull.base_ref, fork=pull.is_fork)
        try:
            results = self._gate_configs(target, seeds=request.seeds or self.settings.seeds)
        except Exception:
            self._react(request.comment_id, "confused")
            raise
        if any(result.comparison is None or result.shortfall for result in results):
            self._react(request.comment_id, "confused")
        elif any(result.comparison.verdict is Verdict.REGRESSED for result in results):
            self._react(request.comment_id, "-1")
        else:
            self._react(request.comment_id, "rocket")
        return self._finish(results)

    def gate_pull_request(self, pull: PullRequestRef, *, seeds: int | None) -> int:
        return self._finish(self._gate_configs(pull, seeds=seeds))

    def _gate_configs(self, pull: PullRequestRef, *, seeds: int | None) -> list[ConfigResult]:
        if pull.fork:
            logger.info("pull request #%s comes from a fork; its token may be read-only", pull.number)
        return [self._guarded(path, pull.head_sha, lambda p=path: self._gate_config(p, pull, seeds)) for path in self.settings.configs]

    def sweep_ref(self, plan: EventPlan) -> int:
        commit = plan.commit or self.settings.sha
        results = [self._guarded(path, commit, lambda p=path: self._sweep_config(p, plan, commit)) for path in self.settings.configs]
        return self._finish(results)

    # One config

    def _gate_config(self, path: Path, pull: PullRequestRef, seeds: int | None) -> ConfigResult:
        config = self._load_config(path)
        sha = pull.head_sha
        seed_list = override_seeds(config.seeds.seeds, seeds) if seeds else None
        self._set_status(sha, config, CommitState.PENDING, f"sweeping {len(seed_list or config.seeds.seeds)} seeds")

        gate, gate_notes = self._base_decision(path, config, pull.base_ref)
        context = ReportContext(
            commit=sha,
            base_ref=pull.base_ref,
            head_ref=pull.head_ref,
            run_url=self.settings.run_url,
            seeds_override=seeds,
            notes=gate_notes,
        )
        outcome = self._pipeline_run(config, context=context, seeds=seed_list, decision=gate)

        if gate != config.decision:
            own = compare(outcome.sweep, outcome.baseline, metrics=config.metrics, decision=config.decision)
            context = replace(context, gate_comparison=own)
        head_now = self._current_head(pull.number)
        if head_now is not None and head_now != sha:
            logger.info("pull request #%s moved from %s to %s during the sweep", pull.number, sha, head_now)
            context = replace(context, stale_head=head_now)

        shortfall = seed_shortfall(outcome.sweep)
        if shortfall:
            logger.warning("%s: %s; the gate does not pass", config.name, shortfall.describe())
            context = replace(context, notes=(shortfall_note(shortfall, self.settings.fail_on), *context.notes))

        body = render_comment(outcome.comparison, outcome.sweep, context=context, baseline=outcome.baseline)
        comment_url, publish_notes = self._publish(pull, sha, config, outcome.comparison, shortfall, body)
        self._summarize(config, outcome, replace(context, notes=context.notes + publish_notes))
        return ConfigResult(
            config_name=config.name,
            exit_code=exit_code(outcome.comparison.verdict, self.settings.fail_on, shortfall),
            comparison=outcome.comparison,
            result_path=outcome.result_path,
            comment_url=comment_url,
            shortfall=shortfall,
        )

    def _sweep_config(self, path: Path, plan: EventPlan, commit: str | None) -> ConfigResult:
        config = self._load_config(path)
        seeds = self.settings.seeds
        seed_list = override_seeds(config.seeds.seeds, seeds) if seeds else None
        context = ReportContext(commit=commit, head_ref=plan.ref, run_url=self.settings.run_url, seeds_override=seeds)
        outcome = self._pipeline_run(config, context=context, seeds=seed_list, decision=None)
        shortfall = seed_shortfall(outcome.sweep)
        notes: tuple[str, ...] = ()
        code = exit_code(outcome.comparison.verdict, self.settings.fail_on, shortfall)
        saved = False

        if plan.save_baseline:
            code = 0  # a baseline refresh records the default branch; it does not gate it
            saved, note = self._save_baseline(config, outcome)
            notes = (note,)
        else:
            if shortfall:
                notes = (shortfall_note(shortfall, self.settings.fail_on),)
            if commit and not self.settings.dry_run:
                self._set_status(
                    commit,
                    config,
                    commit_state(outcome.comparison.verdict, self.settings.fail_on, shortfall),
                    status_description(outcome.comparison, self.settings.fail_on, shortfall),
                )
        self._summarize(config, outcome, replace(context, notes=notes))
        return ConfigResult(
            config_name=config.name,
            exit_code=code,
            comparison=outcome.comparison,
            result_path=outcome.result_path,
            shortfall=shortfall,
            baseline_saved=saved,
        )

    def _save_baseline(self, config: Config, outcome: pipeline.RunOutcome) -> tuple[bool, str]:
        """Save the sweep as the config's baseline; return whether it was saved and a note for the summary."""
        ok, needed = len(outcome.sweep.ok), config.decision.min_seeds
        if ok < needed:
            raise SeedbotError(
                f"baseline {config.name}: only {ok} of {len(outcome.sweep.scorecards)} seeds succeeded, fewer than "
                f"decision.min_seeds = {needed}; fix the failing seeds (see the job summary) and rerun"
            )
        if self.settings.dry_run:
            logger.info("dry run: baseline %s not saved", config.name)
            return False, "Dry run: the baseline was not saved."
        # A significant change on the default branch is a new regime: pooling it with
        # the old seeds would widen sigma, so it starts a new pool.
        new_pool = outcome.comparison.verdict in (Verdict.IMPROVED, Verdict.REGRESSED)
        pipeline.save_baseline(config, outcome.sweep, self.store, new_pool=new_pool)
        regime = "a new pool" if new_pool else "the current pool"
        logger.info("saved baseline %s from %s to %s, in %s", config.name, outcome.sweep.commit, self.settings.baseline_store, regime)
        return True, f"Saved as the new baseline in {self.settings.baseline_store}, in {regime}."

    # Helpers

    def _load_config(self, path: Path) -> Config:
        return load_config(self.settings.workspace / path)

    def _pipeline_run(
        self, config: Config, *, context: ReportContext, seeds: tuple[int, ...] | None, decision: DecisionConfig | None
    ) -> pipeline.RunOutcome:
        run_key = self.settings.run_id or "local"
        output_dir = self.settings.workspace / ".seedbot" / "runs" / run_key / _slug(config.name)
        runner = self.runner_factory(config) if self.runner_factory else None
        return pipeline.run(
            config,
            store=self.store,
            output_dir=output_dir,
            context=context,
            seeds=seeds,
            runner=runner,
            progress=self.progress,
            decision=decision,
        )

    def _base_decision(self, path: Path, config: Config, base_ref: str | None) -> tuple[DecisionConfig, tuple[str, ...]]:
        """Read the gate from the base branch's copy of the config, so a PR cannot loosen its own gate."""
        repo_path = path.as_posix()
        if not base_ref:
            return config.decision, ()
        text = self.client.read_file(repo_path, base_ref)
        if text is None:
            logger.info("%s does not exist on %s; the PR's own decision section gates it", repo_path, base_ref)
            return config.decision, (f"{repo_path} does not exist on {base_ref}, so the decision section of this pull request is the gate.",)
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"{repo_path}@{base_ref}", f"invalid YAML on the base branch ({error}); fix the base branch's config") from error
        section = raw.get("decision", {}) if isinstance(raw, Mapping) else {}
        decision = parse_decision(section or {})
        if decision != config.decision:
            logger.info("pull request changes the decision section of %s; gating with the one on %s", repo_path, base_ref)
        return decision, ()

    def _current_head(self, number: int) -> str | None:
        try:
            return self.client.get_pull(number).head_sha
        except GitHubError as error:
            logger.warning("could not reread pull request #%s to check for a newer head: %s", number, error)
            return None

    def _publish(
        self, pull: PullRequestRef, sha: str, config: Config, comparison: Comparison, shortfall: SeedShortfall, body: str
    ) -> tuple[str | None, tuple[str, ...]]:
        """Post the comment, the status and the check run; return the comment URL and notes on what failed."""
        if self.settings.dry_run:
            logger.info("dry run: no comment, status or check run for %s", config.name)
            return None, ("Dry run: nothing was posted to the pull request.",)
        notes: list[str] = []
        comment_url = None
        if self.settings.comment:
            try:
                comment_url = self.client.upsert_comment(pull.number, comment_marker(config.name), body)
            except GitHubError as error:
                logger.warning("comment for %s not posted: %s", config.name, error)
                notes.append(f"The pull request comment could not be posted: {error}")

        state = commit_state(comparison.verdict, self.settings.fail_on, shortfall)
        if not self._set_status(sha, config, state, status_description(comparison, self.settings.fail_on, shortfall)):
            notes.append("The commit status could not be set; see the job log.")
        try:
            conclusion = check_conclusion(comparison.verdict, state)
            title = f"{comparison.verdict.value.replace('_', ' ')}: {config.name}"
            if shortfall:
                title = f"{shortfall.describe()}; {title}"
            self.client.create_check_run(sha, status_context(config.name), conclusion, title, body, self.settings.run_url)
        except GitHubError as error:
            logger.warning("check run for %s not created: %s", config.name, error)
        return comment_url, tuple(notes)

    def _set_status(self, sha: str | None, config: Config, state: CommitState, description: str) -> bool:
        if not sha or self.settings.dry_run:
            return False
        try:
            self.client.set_status(sha, state, status_context(config.name), description, self.settings.run_url)
        except GitHubError as error:
            logger.warning("status %s not set on %s: %s", status_context(config.name), sha, error)
            return False
        return True

    def _summarize(self, config: Config, outcome: pipeline.RunOutcome, context: ReportContext) -> None:
        budget = 1024 * 1024 // max(len(self.settings.configs), 1) - 1024
        text = render_summary(outcome.comparison, outcome.sweep, context=context, baseline=outcome.baseline, max_bytes=budget)
        append_summary(self.settings.summary_path, text)

    def _guarded(self, path: Path, sha: str | None, work: Callable[[], ConfigResult]) -> ConfigResult:
        """Run one config; an error becomes an `error` status, a summary entry and exit code 2, and the next config runs."""
        try:
            return work()
        except SeedbotError as error:
            logger.error("%s: %s", path, error)
            append_summary(self.settings.summary_path, f"### seedbot: `{path}` failed\n\n{_quote(str(error))}")
            self._error_status(sha, path, str(error))
            return ConfigResult(config_name=str(path), exit_code=error.exit_code)
        except Exception as error:
            self._error_status(sha, path, f"{type(error).__name__}: {error}")
            raise

    def _error_status(self, sha: str | None, path: Path, message: str) -> None:
        if not sha or self.settings.dry_run:
            return
        name = _config_name_for_status(self.settings.workspace / path)
        try:
            self.client.set_status(sha, CommitState.ERROR, status_context(name), message, self.settings.run_url)
        except (GitHubError, ValueError) as error:
            logger.warning("error status not set on %s: %s", sha, error)

    def _finish(self, results: list[ConfigResult]) -> int:
        compared = [result for result in results if result.comparison is not None]
        if compared:
            worst = min(compared, key=lambda result: VERDICT_SEVERITY.index(result.comparison.verdict))
            outputs = comparison_outputs(
                worst.comparison,
                result_path=worst.result_path,
                comment_url=worst.comment_url,
                baseline_saved=any(result.baseline_saved for result in results),
            )
        else:
            outputs = {"verdict": "error"}
        write_outputs(self.settings.output_path, outputs)
        return max((result.exit_code for result in results), default=0)

    def _reply(self, number: int, body: str) -> None:
        if self.settings.dry_run:
            logger.info("dry run: reply on #%s not posted: %s", number, body)
            return
        try:
            self.client.create_comment(number, body)
        except GitHubError as error:
            logger.warning("reply on pull request #%s not posted: %s", number, error)

    def _react(self, comment_id: int, content: str) -> None:
        if self.settings.dry_run:
            return
        try:
            self.client.add_reaction(comment_id, content)
        except GitHubError as error:
            logger.warning("reaction %s on comment %s not added: %s", content, comment_id, error)


def _check_configs_exist(settings: ActionSettings) -> None:
    """Reject missing config files before the first API call, so a typo in `config` fails at once with exit code 2."""
    missing = [path.as_posix() for path in settings.configs if not (settings.workspace / path).is_file()]
    if missing:
        raise ConfigError(
            "config",
            f"{', '.join(missing)} not found in the workspace {settings.workspace}; check the `config` input "
            "(paths relative to the repository root) and that the workflow checks out the repository first",
        )


def workspace_commit(workspace: Path) -> str | None:
    """Return the commit checked out in `workspace` (a git work tree), or None when it cannot be read.

    Reads `.git/HEAD` directly, following a branch through its loose ref file or
    `packed-refs`, so the container needs no git binary.
    """
    git_dir = workspace / ".git"
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref: "):
        return head if re.fullmatch(r"[0-9a-f]{40}", head) else None
    ref = head.removeprefix("ref: ")
    try:
        return (git_dir / ref).read_text().strip() or None
    except OSError:
        pass
    try:
        packed = (git_dir / "packed-refs").read_text().splitlines()
    except OSError:
        return None
    for line in packed:
        sha, _, name = line.partition(" ")
        if name == ref:
            return sha
    return None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "config"


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines() or [""])


def _config_name_for_status(path: Path) -> str:
    """Name the status of a config that failed, even when the file is not valid YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return path.stem.lstrip(".") or "config"
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        raw = None
    if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
        return raw["name"]
    match = re.search(r"^name:\s*[\"']?([^\s\"'#]+)", text, re.MULTILINE)
    return match.group(1) if match else path.stem.lstrip(".") or "config"
