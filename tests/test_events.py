"""Event planning on real webhook payloads, and the `/seedbot rerun` command grammar."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from seedbot.errors import EventError
from seedbot.events import (
    MAX_RERUN_SEEDS,
    PlanKind,
    RerunCommand,
    is_bot,
    load_payload,
    may_rerun,
    parse_rerun_command,
    plan_event,
)

PAYLOADS = Path(__file__).resolve().parents[2] / "shared" / "data" / "github" / "payloads"

needs_payloads = pytest.mark.skipif(
    not PAYLOADS.is_dir(), reason=f"webhook payload samples not found at {PAYLOADS}"
)


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


@needs_payloads
@pytest.mark.parametrize(
    ("name", "kind", "commit", "number"),
    [
        ("pull_request/opened.json", PlanKind.PULL_REQUEST, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", 2),
        ("pull_request/opened.null-body.json", PlanKind.PULL_REQUEST, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", 2),
        ("pull_request/synchronize.json", PlanKind.PULL_REQUEST, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", 2),
        ("pull_request/reopened.json", PlanKind.PULL_REQUEST, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", 2),
        ("pull_request/opened.fork.json", PlanKind.PULL_REQUEST, "6f0d678512460e8a1e797d31928b97b5e6244088", 31),
    ],
)
def test_pull_request_payload_plans_sweep(name, kind, commit, number):
    plan = plan_event("pull_request", payload(name))

    assert plan.kind is kind
    assert plan.commit == commit
    assert plan.pull.number == number
    assert plan.pull.head_sha == commit
    assert not plan.save_baseline


@needs_payloads
def test_pull_request_base_and_fork_fields():
    same_repo = plan_event("pull_request", payload("pull_request/opened.json")).pull
    fork = plan_event("pull_request", payload("pull_request/opened.fork.json")).pull

    assert same_repo.base_ref == "master"
    assert same_repo.head_ref == "changes"
    assert not same_repo.fork
    assert fork.base_ref == "main"
    assert fork.fork


@needs_payloads
def test_pull_request_target_plans_like_pull_request():
    plan = plan_event("pull_request_target", payload("pull_request/opened.fork.json"))

    assert plan.kind is PlanKind.PULL_REQUEST
    assert plan.pull.fork


@needs_payloads
def test_pull_request_deleted_fork_counts_as_fork():
    raw = payload("pull_request/opened.json")
    raw["pull_request"]["head"]["repo"] = None

    assert plan_event("pull_request", raw).pull.fork


@needs_payloads
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"action": "closed"}, "action 'closed' does not start a sweep"),
        ({"action": "edited"}, "action 'edited' does not start a sweep"),
        ({"pull_request": {"draft": True}}, "is a draft"),
        ({"pull_request": {"state": "closed"}, "action": "synchronize"}, "is closed"),
    ],
)
def test_pull_request_skips(change, reason):
    raw = payload("pull_request/opened.json")
    for key, value in change.items():
        if isinstance(value, dict):
            raw[key].update(value)
        else:
            raw[key] = value

    plan = plan_event("pull_request", raw)

    assert plan.kind is PlanKind.SKIP
    assert reason in plan.reason
    assert not plan.runs


@needs_payloads
def test_closed_payload_skipped():
    plan = plan_event("pull_request", payload("pull_request/closed.json"))

    assert plan.kind is PlanKind.SKIP
    assert "closed" in plan.reason


@needs_payloads
def test_pull_request_payload_without_pull_raises():
    raw = payload("pull_request/opened.json")
    del raw["pull_request"]

    with pytest.raises(EventError, match="no pull_request object"):
        plan_event("pull_request", raw)


def rerun_comment(body: str, **user) -> dict:
    raw = copy.deepcopy(payload("issue_comment/created.pull_request.json"))
    raw["comment"]["body"] = body
    raw["comment"]["user"].update(user)
    return raw


@needs_payloads
def test_rerun_comment_plans_rerun():
    plan = plan_event("issue_comment", rerun_comment("Looks flaky.\r\n/seedbot rerun seeds=8\r\n"))

    assert plan.kind is PlanKind.RERUN
    assert plan.pull.number == 31
    assert plan.pull.head_sha is None
    assert plan.rerun.comment_id == 890173751
    assert plan.rerun.commenter == "zhouzhuojie"
    assert plan.rerun.seeds == 8
    assert plan.rerun.seeds_error is None


@needs_payloads
def test_rerun_comment_bad_seeds_kept_as_error():
    plan = plan_event("issue_comment", rerun_comment("/seedbot rerun seeds=many"))

    assert plan.kind is PlanKind.RERUN
    assert plan.rerun.seeds is None
    assert "got 'many'" in plan.rerun.seeds_error


@needs_payloads
@pytest.mark.parametrize(
    ("name", "event_change", "reason"),
    [
        ("issue_comment/created.json", {}, "is on issue #1, not a pull request"),
        ("issue_comment/edited.json", {}, "was edited"),
        ("issue_comment/deleted.json", {}, "was deleted"),
        ("issue_comment/created.pull_request.json", {}, "has no /seedbot rerun command"),
        ("issue_comment/created.pull_request.command.json", {}, "has no /seedbot rerun command"),
        ("issue_comment/created.pull_request.json", {"type": "Bot"}, "is by the bot"),
        ("issue_comment/created.pull_request.json", {"login": "seedbot-helper[bot]"}, "is by the bot"),
    ],
)
def test_issue_comment_skips(name, event_change, reason):
    raw = payload(name)
    raw["comment"]["user"].update(event_change)
    if event_change:
        raw["comment"]["body"] = "/seedbot rerun"

    plan = plan_event("issue_comment", raw)

    assert plan.kind is PlanKind.SKIP
    assert reason in plan.reason


@needs_payloads
def test_plain_issue_command_skipped():
    raw = payload("issue_comment/created.json")
    raw["comment"]["body"] = "/seedbot rerun"

    assert plan_event("issue_comment", raw).kind is PlanKind.SKIP


@needs_payloads
@pytest.mark.parametrize(
    ("name", "kind", "commit", "ref"),
    [
        ("push/commits.json", PlanKind.BASELINE, "199eddf46df50de8d02e99bf1c5fdb4101338224", "master"),
        ("push/branch_created.json", PlanKind.BASELINE, "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "master"),
        ("push/no_username_committer.json", PlanKind.BASELINE, "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "master"),
    ],
)
def test_push_to_default_branch_saves_baseline(name, kind, commit, ref):
    plan = plan_event("push", payload(name))

    assert plan.kind is kind
    assert plan.commit == commit
    assert plan.ref == ref
    assert plan.save_baseline


@needs_payloads
def test_push_tag_deletion_skipped():
    plan = plan_event("push", payload("push/tag_deleted.json"))

    assert plan.kind is PlanKind.SKIP
    assert plan.reason == "push deleted refs/tags/simple-tag"


@needs_payloads
@pytest.mark.parametrize(
    ("ref", "deleted", "reason"),
    [
        ("refs/heads/feature", False, "push to branch 'feature'; baselines come from the default branch 'master'"),
        ("refs/tags/v1.0", False, "push to refs/tags/v1.0 is not a branch"),
        ("refs/heads/master", True, "push deleted refs/heads/master"),
    ],
)
def test_push_skips(ref, deleted, reason):
    raw = payload("push/commits.json")
    raw["ref"] = ref
    raw["deleted"] = deleted

    plan = plan_event("push", raw)

    assert plan.kind is PlanKind.SKIP
    assert plan.reason == reason


@needs_payloads
@pytest.mark.parametrize(
    ("inputs", "kind", "save"),
    [
        (None, PlanKind.SWEEP, False),
        ({"rebuild-baseline": "true"}, PlanKind.BASELINE, True),
        ({"rebuild-baseline": True}, PlanKind.BASELINE, True),
        ({"rebuild-baseline": "false"}, PlanKind.SWEEP, False),
        ({"rebuild_baseline": "TRUE"}, PlanKind.BASELINE, True),
    ],
)
def test_workflow_dispatch_plans(inputs, kind, save):
    raw = payload("workflow_dispatch/payload.json")
    if inputs is not None:
        raw["inputs"] = inputs

    plan = plan_event("workflow_dispatch", raw, sha="a" * 40)

    assert plan.kind is kind
    assert plan.save_baseline is save
    assert plan.commit == "a" * 40
    assert plan.ref == "refs/heads/master"


@needs_payloads
def test_workflow_dispatch_bad_rebuild_input_raises():
    raw = payload("workflow_dispatch/payload.json")
    raw["inputs"] = {"rebuild-baseline": "sometimes"}

    with pytest.raises(EventError, match="rebuild-baseline: expected true or false, got 'sometimes'"):
        plan_event("workflow_dispatch", raw, sha="a" * 40)


@needs_payloads
@pytest.mark.parametrize(
    ("event_name", "name"),
    [
        ("check_run", "check_run/rerequested.json"),
        ("check_run", "check_run/requested_action.json"),
        ("check_suite", "check_suite/requested.json"),
        ("check_suite", "check_suite/rerequested.json"),
    ],
)
def test_other_events_skipped(event_name, name):
    plan = plan_event(event_name, payload(name))

    assert plan.kind is PlanKind.SKIP
    assert f"event {event_name!r} is not handled" in plan.reason


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/seedbot rerun", RerunCommand()),
        ("  /seedbot rerun  ", RerunCommand()),
        ("/seedbot   rerun seeds=10", RerunCommand(seeds=10)),
        ("Please try again.\n/seedbot rerun\nThanks", RerunCommand()),
        ("first paragraph\n\n/seedbot rerun seeds=3\r\n", RerunCommand(seeds=3)),
        ("> /seedbot rerun", None),
        ("> quoted\n> /seedbot rerun seeds=5", None),
        ("```\n/seedbot rerun\n```", None),
        ("~~~text\n/seedbot rerun\n~~~", None),
        ("    /seedbot rerun", None),
        ("- /seedbot rerun", None),
        ("<!--\n/seedbot rerun\n-->", None),
        ("please /seedbot rerun", None),
        ("/seedbot rerunning", None),
        ("/seedbot rerun-all", None),
        ("`/seedbot rerun`", None),
        ("/seedbot", None),
        ("", None),
        (None, None),
    ],
)
def test_rerun_command_grammar(body, expected):
    assert parse_rerun_command(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("/seedbot rerun seeds=abc", "seeds must be an integer from 1 to 64, got 'abc'"),
        ("/seedbot rerun seeds=0", "got '0'"),
        ("/seedbot rerun seeds=-3", "got '-3'"),
        (f"/seedbot rerun seeds={MAX_RERUN_SEEDS + 1}", f"got '{MAX_RERUN_SEEDS + 1}'"),
        ("/seedbot rerun seeds=", "got ''"),
        ("/seedbot rerun now", "unknown argument 'now'"),
    ],
)
def test_rerun_command_bad_arguments(body, message):
    with pytest.raises(EventError, match=message):
        parse_rerun_command(body)


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"login": "octocat", "type": "User"}, False),
        ({"login": "github-actions[bot]", "type": "Bot"}, True),
        ({"login": "renovate[bot]", "type": "User"}, True),
        ({"login": "ci-bot", "type": "Bot"}, True),
        (None, False),
    ],
)
def test_is_bot(user, expected):
    assert is_bot(user) is expected


@pytest.mark.parametrize(
    ("permission", "role_name", "expected"),
    [
        ("admin", "admin", True),
        ("write", "write", True),
        ("write", "maintain", True),
        ("read", "triage", False),
        ("read", "read", False),
        ("none", None, False),
        (None, "maintain", True),
        (None, None, False),
    ],
)
def test_may_rerun(permission, role_name, expected):
    assert may_rerun(permission, role_name) is expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "contains a JSON list, expected an object"),
    ],
)
def test_load_payload_errors(tmp_path, content, message):
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(EventError, match=message):
        load_payload(path)
