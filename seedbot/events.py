"""Turn a GitHub event payload into a plan: what to sweep, for which pull request, or why nothing runs.

Pure apart from `load_payload`: no network, and every decision is a value the
action layer carries out. The plan names the commit to sweep. A `/seedbot rerun`
comment does not name the head commit, so its plan carries the pull request
number and the action layer reads the head through the API.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from markdown_it import MarkdownIt

from seedbot.errors import EventError

PULL_REQUEST_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review", "labeled")
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
MAX_RERUN_SEEDS = 64  # a commenter with write access must not be able to book a GPU runner for hours
# Repository permissions that may start a rerun. The REST `permission` field
# reports maintain as write, so `role_name` is checked as well.
RERUN_PERMISSIONS = frozenset({"admin", "maintain", "write"})

_RERUN_LINE = re.compile(r"^/seedbot\s+rerun(?:\s+(?P<args>.*?))?\s*$")
_SEEDS_ARG = re.compile(r"^seeds=(?P<value>\S*)$")
_ZERO_SHA = "0" * 40


class PlanKind(str, enum.Enum):
    SKIP = "skip"  # nothing runs; `reason` gives the cause
    PULL_REQUEST = "pull_request"  # sweep the PR head and gate it
    RERUN = "rerun"  # comment command: check the commenter's permission, then as PULL_REQUEST
    BASELINE = "baseline"  # sweep a commit of the default branch and save it as the baseline
    SWEEP = "sweep"  # manual run on a ref: sweep and compare, no pull request


@dataclass(frozen=True, kw_only=True)
class PullRequestRef:
    """The pull request of a plan, with the fields the payload provides."""

    number: int
    head_sha: str | None = None  # None for comment events: resolve it through the API
    head_ref: str | None = None
    base_ref: str | None = None
    fork: bool = False  # head repository differs from the base repository (read-only token)


@dataclass(frozen=True, kw_only=True)
class RerunCommand:
    seeds: int | None = None  # `seeds=N` on the command line; None keeps the configured seeds


@dataclass(frozen=True, kw_only=True)
class RerunRequest:
    """A `/seedbot rerun` comment, not yet authorized."""

    comment_id: int
    commenter: str
    seeds: int | None = None
    seeds_error: str | None = None  # an invalid `seeds=` value; the reply shows it instead of running


@dataclass(frozen=True, kw_only=True)
class EventPlan:
    kind: PlanKind
    event_name: str
    reason: str  # one line for the log: why this runs, or why nothing runs
    commit: str | None = None  # the commit to sweep, when the payload names it
    ref: str | None = None  # the ref the commit belongs to (branch name for pushes, full ref otherwise)
    pull: PullRequestRef | None = None
    rerun: RerunRequest | None = None
    save_baseline: bool = False

    @property
    def runs(self) -> bool:
        return self.kind is not PlanKind.SKIP


def load_payload(path: Path) -> dict[str, Any]:
    """Read the webhook payload that the runner wrote to GITHUB_EVENT_PATH."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise EventError(
            f"GITHUB_EVENT_PATH: cannot read {path} ({error.strerror}); run seedbot inside a GitHub Actions job"
        ) from error
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise EventError(f"GITHUB_EVENT_PATH: {path} is not valid JSON ({error})") from error
    if not isinstance(payload, dict):
        raise EventError(f"GITHUB_EVENT_PATH: {path} contains a JSON {type(payload).__name__}, expected an object")
    return payload


def plan_event(event_name: str, payload: Mapping[str, Any], *, sha: str | None = None) -> EventPlan:
    """Decide what the event requests. `sha` is GITHUB_SHA, used where the payload has no commit."""
    if event_name in PULL_REQUEST_EVENTS:
        return _plan_pull_request(event_name, payload)
    if event_name == "issue_comment":
        return _plan_issue_comment(payload)
    if event_name == "push":
        return _plan_push(payload)
    if event_name == "workflow_dispatch":
        return _plan_workflow_dispatch(payload, sha=sha)
    return _skip(
        event_name,
        f"event {event_name!r} is not handled; seedbot runs on pull_request, issue_comment, push and workflow_dispatch",
    )


def parse_rerun_command(body: str | None) -> RerunCommand | None:
    """Find `/seedbot rerun [seeds=N]` on a line of its own in a comment body.

    Lines inside a block quote, a fenced or indented code block, a list or an
    HTML block do not count, so quoting someone's command does not rerun it.
    Raise EventError for an invalid `seeds=` value or an unknown argument.
    """
    if not body:
        return None
    for line in _top_level_paragraph_lines(body):
        match = _RERUN_LINE.match(line)
        if match is None:
            continue
        return RerunCommand(seeds=_parse_rerun_args(match.group("args")))
    return None


def is_bot(user: Mapping[str, Any] | None) -> bool:
    """Return whether a payload `user` object is a bot or an app account."""
    if not user:
        return False
    login = str(user.get("login") or "")
    return user.get("type") == "Bot" or login.endswith("[bot]")


def may_rerun(permission: str | None, role_name: str | None) -> bool:
    """Return whether a collaborator-permission response allows a rerun (write, maintain or admin)."""
    return (permission or "").lower() in RERUN_PERMISSIONS or (role_name or "").lower() in RERUN_PERMISSIONS


def _top_level_paragraph_lines(body: str) -> list[str]:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    tokens = MarkdownIt("commonmark").parse(text)
    lines: list[str] = []
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type == "paragraph_open" and opening.level == 0 and inline.type == "inline":
            lines.extend(line.strip() for line in inline.content.split("\n"))
    return lines


def _parse_rerun_args(args: str | None) -> int | None:
    if not args:
        return None
    seeds: int | None = None
    for arg in args.split():
        match = _SEEDS_ARG.match(arg)
        if match is None:
            raise EventError(f"/seedbot rerun: unknown argument {arg!r}; the only argument is seeds=N")
        value = match.group("value")
        if not value.isdigit() or not 1 <= int(value) <= MAX_RERUN_SEEDS:
            raise EventError(
                f"/seedbot rerun: seeds must be an integer from 1 to {MAX_RERUN_SEEDS}, got {value!r}"
            )
        seeds = int(value)
    return seeds


def _skip(event_name: str, reason: str) -> EventPlan:
    return EventPlan(kind=PlanKind.SKIP, event_name=event_name, reason=reason)


def _plan_pull_request(event_name: str, payload: Mapping[str, Any]) -> EventPlan:
    action = payload.get("action")
    pull = payload.get("pull_request")
    if not isinstance(pull, Mapping):
        raise EventError(f"{event_name} payload has no pull_request object; check GITHUB_EVENT_PATH")
    number = pull.get("number", payload.get("number"))
    if action not in PULL_REQUEST_ACTIONS:
        return _skip(event_name, f"pull request #{number}: action {action!r} does not start a sweep")
    if pull.get("state") == "closed":
        return _skip(event_name, f"pull request #{number} is closed")
    if pull.get("draft"):
        return _skip(event_name, f"pull request #{number} is a draft; mark it ready for review to run seedbot")

    ref = _pull_request_ref(pull)
    return EventPlan(
        kind=PlanKind.PULL_REQUEST,
        event_name=event_name,
        reason=f"pull request #{ref.number} {action}: sweeping head {ref.head_sha}",
        commit=ref.head_sha,
        ref=ref.head_ref,
        pull=ref,
    )


def _pull_request_ref(pull: Mapping[str, Any]) -> PullRequestRef:
    head = pull.get("head") or {}
    base = pull.get("base") or {}
    head_repo = (head.get("repo") or {}).get("full_name")
    base_repo = (base.get("repo") or {}).get("full_name")
    try:
        number = int(pull["number"])
        head_sha = str(head["sha"])
    except (KeyError, TypeError, ValueError) as error:
        raise EventError(f"pull_request payload lacks number or head.sha ({error!r}); check GITHUB_EVENT_PATH") from error
    return PullRequestRef(
        number=number,
        head_sha=head_sha,
        head_ref=head.get("ref"),
        base_ref=base.get("ref"),
        # A deleted fork leaves head.repo null: treat it as a fork, whose token is read-only.
        fork=head_repo is None or head_repo != base_repo,
    )


def _plan_issue_comment(payload: Mapping[str, Any]) -> EventPlan:
    event_name = "issue_comment"
    action = payload.get("action")
    issue = payload.get("issue") or {}
    comment = payload.get("comment") or {}
    number = issue.get("number")
    if action != "created":
        return _skip(event_name, f"comment {comment.get('id')} was {action}; only new comments are read")
    if not issue.get("pull_request"):
        return _skip(event_name, f"comment {comment.get('id')} is on issue #{number}, not a pull request")
    user = comment.get("user") or {}
    if is_bot(user):
        return _skip(event_name, f"comment {comment.get('id')} is by the bot {user.get('login')}")
    try:
        command = parse_rerun_command(comment.get("body"))
        seeds_error = None
    except EventError as error:
        command, seeds_error = RerunCommand(), str(error)
    if command is None:
        return _skip(event_name, f"comment {comment.get('id')} on #{number} has no /seedbot rerun command")

    request = RerunRequest(
        comment_id=int(comment["id"]),
        commenter=str(user.get("login")),
        seeds=command.seeds,
        seeds_error=seeds_error,
    )
    return EventPlan(
        kind=PlanKind.RERUN,
        event_name=event_name,
        reason=f"comment {request.comment_id} by {request.commenter} asks to rerun pull request #{number}",
        pull=PullRequestRef(number=int(number)),
        rerun=request,
    )


def _plan_push(payload: Mapping[str, Any]) -> EventPlan:
    event_name = "push"
    ref = str(payload.get("ref") or "")
    if payload.get("deleted") or payload.get("after") == _ZERO_SHA:
        return _skip(event_name, f"push deleted {ref}")
    if not ref.startswith("refs/heads/"):
        return _skip(event_name, f"push to {ref} is not a branch")
    branch = ref.removeprefix("refs/heads/")
    repository = payload.get("repository") or {}
    default_branch = repository.get("default_branch") or repository.get("master_branch")
    if branch != default_branch:
        return _skip(event_name, f"push to branch {branch!r}; baselines come from the default branch {default_branch!r}")
    commit = payload.get("after") or (payload.get("head_commit") or {}).get("id")
    return EventPlan(
        kind=PlanKind.BASELINE,
        event_name=event_name,
        reason=f"push to default branch {branch}: sweeping {commit} as the new baseline",
        commit=commit,
        ref=branch,
        save_baseline=True,
    )


def _plan_workflow_dispatch(payload: Mapping[str, Any], *, sha: str | None) -> EventPlan:
    event_name = "workflow_dispatch"
    inputs = payload.get("inputs") or {}
    raw = inputs.get("rebuild-baseline", inputs.get("rebuild_baseline", False))
    rebuild = _parse_bool_input(raw)
    ref = payload.get("ref")
    kind = PlanKind.BASELINE if rebuild else PlanKind.SWEEP
    purpose = "rebuilding the baseline" if rebuild else "sweeping and comparing with the baseline"
    return EventPlan(
        kind=kind,
        event_name=event_name,
        reason=f"manual run on {ref} at {sha}: {purpose}",
        commit=sha,
        ref=ref,
        save_baseline=rebuild,
    )


def _parse_bool_input(raw: Any) -> bool:
    # Dispatch inputs of type boolean reach the payload as strings or booleans, depending on the runner.
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    raise EventError(f"workflow_dispatch input rebuild-baseline: expected true or false, got {raw!r}")
