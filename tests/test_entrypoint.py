"""Replay real webhook payloads through entrypoint.py, run as a subprocess with the Actions environment.

The entry point talks to the fake GitHub over HTTP with the real client; each
test checks the requests the fake received. Sweeps use the command runner with
a tiny scoring script, so each run costs a Python start-up per seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from seedbot.report import comment_marker
from tests.fixtures.action_workspace import (
    CONFIG_NAME,
    PAYLOADS,
    load_payload,
    parse_outputs,
    retarget_comment,
    retarget_pull_request,
    retarget_push,
    write_workspace,
)
from tests.fixtures.fake_github import closed_port

pytestmark = pytest.mark.skipif(not PAYLOADS.is_dir(), reason=f"webhook payload samples not found at {PAYLOADS}")

ENTRYPOINT = Path(__file__).resolve().parents[1] / "entrypoint.py"
TOKEN = "ghs_entrypoint_token"
MAIN = "d" * 40
BASELINE_FILE = f".seedbot/baselines/{CONFIG_NAME}.json"
MARKER = comment_marker(CONFIG_NAME)


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]


@pytest.fixture
def workspace(tmp_path):
    return write_workspace(tmp_path / "checkout")


@pytest.fixture
def run_entrypoint(tmp_path, fake_github, workspace):
    counter = iter(range(1, 1000))

    def run(event_name: str, payload: dict, *, sha: str = MAIN, api_url: str | None = None, **inputs: str) -> Finished:
        index = next(counter)
        event_path = tmp_path / f"event-{index}.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        summary = tmp_path / f"summary-{index}.md"
        outputs = tmp_path / f"outputs-{index}.txt"
        environ = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
        environ.update(
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_EVENT_NAME": event_name,
                "GITHUB_EVENT_PATH": str(event_path),
                "GITHUB_REPOSITORY": fake_github.repository,
                "GITHUB_SHA": sha,
                "GITHUB_API_URL": api_url or fake_github.url,
                "GITHUB_SERVER_URL": "https://github.example",
                "GITHUB_RUN_ID": str(100 + index),
                "GITHUB_OUTPUT": str(outputs),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_WORKSPACE": str(workspace),
                "INPUT_TOKEN": TOKEN,
                "INPUT_CONFIG": ".seedbot.yml",
                "INPUT_FAIL-ON": "regression",
                "INPUT_BASELINE-STORE": "branch:seedbot-baselines",
                "INPUT_COMMENT": "true",
                "INPUT_DRY-RUN": "false",
            }
        )
        environ.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
        completed = subprocess.run(
            [sys.executable, str(ENTRYPOINT)], cwd=workspace, env=environ, capture_output=True, text=True, timeout=300
        )
        return Finished(
            returncode=completed.returncode,
            stdout=completed.stdout,
            stderr=completed.stderr,
            summary=summary.read_text(encoding="utf-8") if summary.exists() else "",
            outputs=parse_outputs(outputs.read_text(encoding="utf-8")) if outputs.exists() else {},
        )

    return run


def push_payload(fake) -> dict:
    return retarget_push(load_payload("push/commits.json"), fake.repository, after=MAIN)


def pull_payload(fake, *, number: int, head_sha: str, name: str = "pull_request/synchronize.json", fork: str | None = None) -> dict:
    return retarget_pull_request(load_payload(name), fake.repository, number=number, head_sha=head_sha, fork_repository=fork)


def test_push_to_default_branch_saves_baseline(fake_github, run_entrypoint):
    finished = run_entrypoint("push", push_payload(fake_github))

    assert finished.returncode == 0, finished.stderr
    stored = json.loads(fake_github.file_text(BASELINE_FILE, "seedbot-baselines"))
    assert stored["pool"][0]["commit"] == MAIN
    assert len(stored["pool"][0]["scorecards"]) == 5
    assert "Saved as the new baseline" in finished.summary
    assert finished.outputs["verdict"] == "no_baseline"
    assert finished.outputs["baseline-saved"] == "true"
    assert fake_github.requests_to("POST", r"/git/refs$"), "the baseline branch was not created"


def test_five_synchronize_events_one_comment(fake_github, run_entrypoint):
    assert run_entrypoint("push", push_payload(fake_github)).returncode == 0
    fake_github.add_comments(2, 120)
    heads = [f"{digit}" * 40 for digit in "12345"]

    for head in heads:
        fake_github.add_pull(2, head_sha=head)
        finished = run_entrypoint("pull_request", pull_payload(fake_github, number=2, head_sha=head))
        assert finished.returncode == 0, finished.stderr

    comments = fake_github.comments_on(2)
    ours = [comment for comment in comments if MARKER in comment.body]
    assert len(ours) == 1
    assert len(comments) == 121
    assert "`5555555`" in ours[0].body
    assert len(fake_github.requests_to("POST", r"/issues/2/comments$")) == 1
    assert len(fake_github.requests_to("PATCH", rf"/issues/comments/{ours[0].id}$")) == 4
    for head in heads:
        states = [(status["context"], status["state"]) for status in fake_github.statuses if status["sha"] == head]
        assert states == [(f"seedbot/{CONFIG_NAME}", "pending"), (f"seedbot/{CONFIG_NAME}", "success")]
    assert finished.stdout.count(f"::add-mask::{TOKEN}") == 1
    assert "::group::seed 0 (1/5)" in finished.stderr
    assert TOKEN not in finished.stderr


def test_status_targets_run_url(fake_github, run_entrypoint):
    head = "a1" * 20
    fake_github.add_pull(2, head_sha=head)

    finished = run_entrypoint("pull_request", pull_payload(fake_github, number=2, head_sha=head, name="pull_request/opened.json"))

    assert finished.returncode == 0, finished.stderr
    final = fake_github.statuses[-1]
    assert final["sha"] == head
    assert final["state"] == "success"
    assert final["description"].startswith("no baseline (passes: fail-on is regression)")
    assert final["target_url"].startswith("https://github.example/octo-org/hello-world/actions/runs/")
    assert finished.outputs["verdict"] == "no_baseline"
    assert finished.outputs["comment-url"].endswith(f"#issuecomment-{fake_github.comments_on(2)[0].id}")


def test_unauthorized_rerun_starts_nothing(fake_github, run_entrypoint):
    fake_github.set_permission("drive-by", "read")
    fake_github.add_pull(31, head_sha="b" * 40)
    payload = retarget_comment(
        load_payload("issue_comment/created.pull_request.json"), fake_github.repository, number=31, body="/seedbot rerun", login="drive-by"
    )

    finished = run_entrypoint("issue_comment", payload)

    assert finished.returncode == 0, finished.stderr
    assert fake_github.statuses == []
    assert fake_github.reactions == []
    assert fake_github.requests_to("GET", r"/pulls/31$") == []
    [reply] = fake_github.comments_on(31)
    assert "write, maintain or admin" in reply.body
    assert "Nothing ran" in finished.summary


def test_fork_with_read_only_token_keeps_verdict(fake_github, run_entrypoint, workspace):
    assert run_entrypoint("push", push_payload(fake_github)).returncode == 0
    write_workspace(workspace, shift=-0.05)
    fake_github.add_pull(31, head_sha="f" * 40, head_repo="contributor/fork")
    fake_github.read_only = True

    finished = run_entrypoint(
        "pull_request", pull_payload(fake_github, number=31, head_sha="f" * 40, name="pull_request/opened.fork.json", fork="contributor/fork")
    )

    assert finished.returncode == 1, finished.stderr
    assert fake_github.requests_to("POST", r"/statuses/f{40}$"), "the run did not try to set a status"
    assert fake_github.statuses == []
    assert fake_github.comments_on(31) == []
    assert "Regressed" in finished.summary
    assert "could not be posted" in finished.summary
    assert finished.outputs["verdict"] == "regressed"
    assert float(finished.outputs["delta"]) == pytest.approx(-0.05)


def test_overlong_comment_is_cut(fake_github, run_entrypoint, workspace):
    # Every seed fails with a long error, so the errors and seed rows alone pass 65,536 characters.
    noise = "x" * 400
    write_workspace(workspace, command=f"sh -c 'echo {noise} {{seed}} {{output_dir}} >&2; exit 1'")
    fake_github.add_pull(2, head_sha="c" * 40)

    finished = run_entrypoint("pull_request", pull_payload(fake_github, number=2, head_sha="c" * 40), seeds="200")

    assert finished.returncode == 1, finished.stderr
    assert fake_github.statuses[-1]["state"] == "error"
    assert fake_github.statuses[-1]["description"].startswith("200 of 200 seeds failed; no baseline")
    assert "200 of 200 seeds failed" in finished.summary
    [comment] = fake_github.comments_on(2)
    assert len(comment.body) <= 65536
    assert MARKER in comment.body
    assert "cut to stay under" in comment.body
    assert len(finished.summary) > 65536
    assert finished.summary.count(noise[:100]) > comment.body.count(noise[:100])


def test_tag_deletion_push_skipped(fake_github, run_entrypoint):
    payload = retarget_push(load_payload("push/tag_deleted.json"), fake_github.repository)

    finished = run_entrypoint("push", payload)

    assert finished.returncode == 0, finished.stderr
    assert fake_github.requests == []
    assert "Nothing ran: push deleted refs/tags/simple-tag" in finished.summary
    assert finished.outputs == {"verdict": "skipped"}


@pytest.mark.parametrize(
    ("event_name", "name", "reason"),
    [
        ("check_run", "check_run/rerequested.json", "event 'check_run' is not handled"),
        ("pull_request", "pull_request/closed.json", "action 'closed' does not start a sweep"),
        ("issue_comment", "issue_comment/edited.json", "was edited"),
    ],
)
def test_other_events_neutral(fake_github, run_entrypoint, event_name, name, reason):
    finished = run_entrypoint(event_name, load_payload(name))

    assert finished.returncode == 0, finished.stderr
    assert fake_github.requests == []
    assert reason in finished.stderr
    assert reason in finished.summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"FAIL-ON": "sometimes"}, "fail-on: must be one of regression, regression-or-inconclusive, never, got 'sometimes'"),
        ({"BASELINE-STORE": "s3:bucket"}, "baseline-store: must be `branch:<branch name>` or `local:<directory>`"),
    ],
)
def test_invalid_input_exits_2(fake_github, run_entrypoint, inputs, message):
    finished = run_entrypoint("push", push_payload(fake_github), **inputs)

    assert finished.returncode == 2
    assert f"::error title=seedbot::{message}" in finished.stdout
    assert message in finished.summary
    assert finished.outputs == {"verdict": "error"}
    assert fake_github.requests == []


def test_missing_config_fails_before_api(fake_github, run_entrypoint):
    fake_github.add_pull(2, head_sha="c" * 40)
    started = time.monotonic()

    # Nothing listens on the API port: any request would retry for the 300 s default deadline.
    finished = run_entrypoint(
        "pull_request", pull_payload(fake_github, number=2, head_sha="c" * 40),
        api_url=f"http://127.0.0.1:{closed_port()}", config="nope.yml",
    )

    assert time.monotonic() - started < 60
    assert finished.returncode == 2
    assert "::error title=seedbot::config: nope.yml not found in the workspace" in finished.stdout
    assert "nope.yml not found" in finished.summary
    assert finished.outputs == {"verdict": "error"}
    assert "retrying" not in finished.stderr


def test_missing_event_file_reported(fake_github, run_entrypoint, tmp_path):
    finished = run_entrypoint("push", push_payload(fake_github))
    assert finished.returncode == 0

    # A payload that is not a JSON object is an EventError: exit 2, with the file named.
    broken = run_entrypoint("push", [])  # type: ignore[arg-type]

    assert broken.returncode == 2
    assert "contains a JSON list, expected an object" in broken.stdout
    assert broken.outputs == {"verdict": "error"}
