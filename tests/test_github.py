"""GitHubClient against the fake GitHub API: comments, statuses, check runs, retries and deadlines."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from seedbot.errors import CommentNotPosted, ConfigError, GitHubError
from tests.fixtures.fake_github import FakeGitHub, closed_port, serve
from seedbot.github import (
    STATUS_DESCRIPTION_MAX,
    CommitState,
    FileConflict,
    GitHubClient,
    status_context,
    truncate,
)

MARKER = "<!-- seedbot:config=demo -->"
BOT = "github-actions[bot]"  # the GITHUB_TOKEN's identity; the fake gives `[bot]` logins type "Bot"
SHA = "c" * 40
REST_DESCRIPTION = Path(__file__).resolve().parents[2] / "shared/data/github/rest/api.github.com.bot-subset.json"


def body_with_marker(text: str) -> str:
    return f"{MARKER}\n{text}"


# Comments


@pytest.mark.parametrize("per_page", [30, 100])
def test_upsert_keeps_one_comment(fake_github, make_github_client, per_page):
    fake_github.add_pull(12)
    fake_github.add_comments(12, 120)
    client = make_github_client(per_page=per_page)

    urls = {client.upsert_comment(12, MARKER, body_with_marker(f"run {i}")) for i in range(5)}

    ours = [c for c in fake_github.comments_on(12) if MARKER in c.body]
    assert len(ours) == 1
    assert ours[0].body == body_with_marker("run 4")
    assert len(urls) == 1
    assert len(fake_github.requests_to("POST", r"/issues/12/comments$")) == 1
    assert len(fake_github.requests_to("PATCH", r"/issues/comments/\d+$")) == 4
    pages_per_search = math.ceil(121 / per_page)
    list_requests = fake_github.requests_to("GET", r"/issues/12/comments$")
    assert len(list_requests) == 1 * math.ceil(120 / per_page) + 4 * pages_per_search
    assert {r.query.get("per_page", "30") for r in list_requests} == {str(per_page)}  # PyGithub omits the default 30


def test_upsert_finds_marker_on_last_page(fake_github, make_github_client):
    fake_github.add_pull(3)
    fake_github.add_comments(3, 1, body=body_with_marker("old"), user=BOT)
    fake_github.add_comments(3, 250)
    client = make_github_client()

    found_before = client.find_comment(3, MARKER)
    client.upsert_comment(3, MARKER, body_with_marker("new"))

    assert found_before is not None
    assert found_before.body == body_with_marker("old")
    assert [c.body for c in fake_github.comments_on(3) if MARKER in c.body] == [body_with_marker("new")]
    assert fake_github.requests_to("POST", r"/comments$") == []


def test_find_comment_ignores_other_markers(fake_github, make_github_client):
    fake_github.add_comments(4, 1, body="<!-- seedbot:config=demo-large -->", user=BOT)
    client = make_github_client()

    assert client.find_comment(4, MARKER) is None


@pytest.mark.parametrize(
    ("body", "user", "user_type"),
    [
        pytest.param(f"I like this. {MARKER}", "mallory", "User", id="person-quotes-marker"),
        pytest.param(body_with_marker("forged verdict"), "mallory", "User", id="person-starts-with-marker"),
        pytest.param(body_with_marker("verdict"), "mallory", "Organization", id="organization-author"),
        pytest.param(
            "<!-- seedbot:config=other -->\n- seed 0: Traceback ... printed " + MARKER,
            "seedbot-app[bot]",
            "Bot",
            id="bot-comment-quotes-marker-in-seed-error",
        ),
    ],
)
def test_upsert_never_edits_foreign_comment(fake_github, make_github_client, body, user, user_type):
    [foreign_id] = fake_github.add_comments(9, 1, body=body, user=user, user_type=user_type)
    client = make_github_client()

    assert client.find_comment(9, MARKER) is None
    client.upsert_comment(9, MARKER, body_with_marker("verdict"))

    assert fake_github.comments[foreign_id].body == body
    [ours] = [c for c in fake_github.comments_on(9) if c.id != foreign_id]
    assert ours.body == body_with_marker("verdict")
    assert ours.user == BOT
    assert ours.user_type == "Bot"
    assert fake_github.requests_to("PATCH", rf"/issues/comments/{foreign_id}$") == []


def test_upsert_edits_app_bot_comment(fake_github, make_github_client):
    [bot_id] = fake_github.add_comments(9, 1, body=body_with_marker("old"), user="seedbot-app[bot]")
    fake_github.add_comments(9, 1, body=f"I like this. {MARKER}", user="mallory")
    client = make_github_client()

    client.upsert_comment(9, MARKER, body_with_marker("new"))

    assert fake_github.comments[bot_id].body == body_with_marker("new")
    assert fake_github.requests_to("POST", r"/issues/9/comments$") == []


def test_upsert_moves_marker_to_first_line(fake_github, make_github_client):
    client = make_github_client()

    client.upsert_comment(9, MARKER, f"### Verdict\n\n{MARKER}\nbody")
    client.upsert_comment(9, MARKER, f"### Second run\n{MARKER}")

    [comment] = fake_github.comments_on(9)
    assert comment.body.startswith(MARKER + "\n")
    assert comment.body.count(MARKER) == 1
    assert "### Second run" in comment.body


def test_create_landed_despite_502_posts_once(fake_github, make_github_client):
    fake_github.add_comments(5, 40)
    fake_github.land_then_fail("POST", r"/issues/5/comments$", 502)
    client = make_github_client()

    url = client.upsert_comment(5, MARKER, body_with_marker("verdict"))

    ours = [c for c in fake_github.comments_on(5) if MARKER in c.body]
    assert len(ours) == 1
    assert url.endswith(f"#issuecomment-{ours[0].id}")
    assert len(fake_github.requests_to("POST", r"/issues/5/comments$")) == 1


@pytest.mark.parametrize(
    "status",
    [pytest.param(502, id="502-not-landed"), pytest.param(None, id="connection-dropped")],
)
def test_create_lost_is_posted_again(fake_github, make_github_client, status):
    fake_github.fail_next("POST", r"/issues/6/comments$", status)
    client = make_github_client()

    client.upsert_comment(6, MARKER, body_with_marker("verdict"))

    assert len([c for c in fake_github.comments_on(6) if MARKER in c.body]) == 1
    assert len(fake_github.requests_to("POST", r"/issues/6/comments$")) == 2
    assert len(client.test_clock.waits) == 1


def test_upsert_failure_raises_comment_not_posted(fake_github, make_github_client):
    fake_github.read_only = True
    client = make_github_client()

    with pytest.raises(CommentNotPosted, match=r"PR #8 failed: HTTP 403: Resource not accessible.*permissions:"):
        client.upsert_comment(8, MARKER, body_with_marker("verdict"))


def test_upsert_rejects_body_without_marker(make_github_client):
    client = make_github_client()

    with pytest.raises(ValueError, match="does not contain its marker"):
        client.upsert_comment(1, MARKER, "no marker here")


def test_create_comment_and_reaction(fake_github, make_github_client):
    [comment_id] = fake_github.add_comments(9, 1, body="/seedbot rerun")
    client = make_github_client()

    client.add_reaction(comment_id, "eyes")
    client.add_reaction(comment_id, "eyes")
    url = client.create_comment(9, "Only maintainers can rerun seedbot.")

    assert [(r["comment_id"], r["content"]) for r in fake_github.reactions] == [(comment_id, "eyes")]
    assert [c.body for c in fake_github.comments_on(9)][-1] == "Only maintainers can rerun seedbot."
    assert "#issuecomment-" in url


# Commit statuses and check runs


@pytest.mark.parametrize(
    ("description", "expected_length"),
    [("short", 5), ("x" * 140, 140), ("x" * 141, 140), ("x" * 500, 140)],
)
def test_status_description_cut(fake_github, make_github_client, description, expected_length):
    client = make_github_client()

    client.set_status(SHA, CommitState.FAILURE, status_context("demo"), description, "http://127.0.0.1/run/1")

    [status] = fake_github.statuses
    assert len(status["description"]) == expected_length
    assert status["description"].endswith("…") == (len(description) > STATUS_DESCRIPTION_MAX)
    assert status["context"] == "seedbot/demo"
    assert status["state"] == "failure"
    assert status["sha"] == SHA
    assert status["target_url"] == "http://127.0.0.1/run/1"


def test_status_without_target_url(fake_github, make_github_client):
    client = make_github_client()

    client.set_status(SHA, CommitState.PENDING, "seedbot/demo", "running 5 seeds")

    assert fake_github.statuses[0]["target_url"] is None
    assert "target_url" not in fake_github.requests[-1].body


def test_check_run_created(fake_github, make_github_client):
    client = make_github_client()

    created = client.create_check_run(SHA, "seedbot/demo", "success", "No regression", "y" * 70000, "http://x/1")

    [check_run] = fake_github.check_runs.values()
    assert created is True
    assert check_run["status"] == "completed"
    assert check_run["conclusion"] == "success"
    assert check_run["head_sha"] == SHA
    assert len(check_run["output"]["summary"]) == 65535


@pytest.mark.parametrize("status", [403, 404])
def test_check_run_refused_returns_false(fake_github, make_github_client, caplog, status):
    if status == 403:
        fake_github.checks_forbidden = True
    else:
        fake_github.fail_next("POST", r"/check-runs$", 404, body={"message": "Not Found"})
    client = make_github_client()

    with caplog.at_level("INFO", logger="seedbot"):
        created = client.create_check_run(SHA, "seedbot/demo", "failure", "Regression", "summary")

    assert created is False
    assert fake_github.check_runs == {}
    assert f"token cannot create check runs (HTTP {status})" in caplog.text


def test_check_run_server_error_raises(fake_github, make_github_client):
    fake_github.fail_next("POST", r"/check-runs$", 500, times=100)
    client = make_github_client()

    with pytest.raises(GitHubError, match=r"creating check run 'seedbot/demo' on c+ failed: HTTP 500"):
        client.create_check_run(SHA, "seedbot/demo", "failure", "Regression", "summary")


# Permissions, pull requests, repository and files


@pytest.mark.parametrize("level", ["admin", "maintain", "write", "triage", "read", "none"])
def test_permission_levels(fake_github, make_github_client, level):
    fake_github.set_permission("alice", level)
    client = make_github_client()

    assert client.permission("alice") == level


def test_permission_unknown_user_is_none(make_github_client):
    client = make_github_client()

    assert client.permission("mallory") == "none"


@pytest.mark.parametrize(
    ("head_repo", "expected_repo", "expected_fork"),
    [
        pytest.param("", "octo-org/hello-world", False, id="same-repository"),
        pytest.param("someone/hello-world", "someone/hello-world", True, id="fork"),
        pytest.param(None, None, True, id="deleted-fork"),
    ],
)
def test_get_pull(fake_github, make_github_client, head_repo, expected_repo, expected_fork):
    fake_github.add_pull(21, head_sha="d" * 40, head_ref="tune-lr", draft=True, head_repo=head_repo)
    client = make_github_client()

    pull = client.get_pull(21)

    assert pull.number == 21
    assert pull.head_sha == "d" * 40
    assert pull.head_ref == "tune-lr"
    assert pull.base_ref == "main"
    assert pull.draft is True
    assert pull.state == "open"
    assert pull.head_repo == expected_repo
    assert pull.is_fork is expected_fork


def test_get_pull_missing_raises(make_github_client):
    client = make_github_client()

    with pytest.raises(GitHubError, match=r"reading PR #404 failed: HTTP 404: Not Found\. Check that octo-org/hello-world"):
        client.get_pull(404)


def test_read_file(fake_github, make_github_client):
    fake_github.put_file(".seedbot.yml", "decision:\n  alpha: 0.05\n  note: é\n")
    client = make_github_client()

    assert client.read_file(".seedbot.yml", "main") == "decision:\n  alpha: 0.05\n  note: é\n"
    assert client.read_file("missing.yml", "main") is None
    assert client.read_file(".seedbot.yml", "no-such-branch") is None


def test_read_directory_raises(fake_github, make_github_client):
    fake_github.put_file("configs/a.yml", "a: 1\n")
    client = make_github_client()

    with pytest.raises(GitHubError, match="configs at main failed: it is a directory"):
        client.read_file("configs", "main")


def test_write_file_stale_sha_conflicts(fake_github, make_github_client):
    fake_github.put_file("data.json", "{}")
    client = make_github_client()

    with pytest.raises(FileConflict, match=r"data.json on branch main: the file changed since it was read \(HTTP 409"):
        client.write_file("data.json", "[]", message="update", branch="main", sha="0" * 40)
    with pytest.raises(FileConflict, match=r"(?s)HTTP 422: .*sha"):
        client.write_file("data.json", "[]", message="update", branch="main", sha=None)


def test_default_branch_cached(fake_github, make_github_client):
    client = make_github_client()

    assert client.default_branch() == "main"
    assert client.default_branch() == "main"
    assert len(fake_github.requests_to("GET", r"^/repos/octo-org/hello-world$")) == 1


@pytest.mark.parametrize(
    ("repository", "token", "match"),
    [
        ("hello-world", "t", r"repository: expected 'owner/name', got 'hello-world'"),
        ("a/b/c", "t", r"repository: expected 'owner/name', got 'a/b/c'"),
        ("octo-org/hello-world", "", r"token: is empty"),
    ],
)
def test_client_rejects_invalid_settings(repository, token, match):
    with pytest.raises(ConfigError, match=match):
        GitHubClient(token, repository, "http://127.0.0.1:1")


def test_token_masked_and_hidden(fake_github, make_github_client, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    fake_github.token = "s3cret-token"

    client = make_github_client(token="s3cret-token")
    client.set_status(SHA, CommitState.SUCCESS, "seedbot/demo", "ok")

    assert "::add-mask::s3cret-token" in capsys.readouterr().out
    assert "s3cret-token" not in repr(client)
    assert fake_github.requests[-1].headers["authorization"].endswith("s3cret-token")


def test_wrong_token_explains_fix(fake_github, make_github_client):
    fake_github.token = "right"
    client = make_github_client(token="wrong")

    with pytest.raises(GitHubError, match=r"HTTP 401: Bad credentials\. The token was rejected; check the `token` input") as raised:
        client.get_pull(1)
    assert "wrong" not in str(raised.value)


# Retries, rate limits and the deadline


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        pytest.param("GET", r"/pulls/2$", lambda c: c.get_pull(2), id="GET"),
        pytest.param("PATCH", r"/issues/comments/\d+$", lambda c: c.upsert_comment(2, MARKER, body_with_marker("b")), id="PATCH"),
        pytest.param("PUT", r"/contents/f.json$", lambda c: c.write_file("f.json", "{}", message="m", branch="main", sha=None), id="PUT"),
        pytest.param("POST", r"/statuses/", lambda c: c.set_status(SHA, CommitState.SUCCESS, "seedbot/demo", "ok"), id="POST"),
    ],
)
@pytest.mark.parametrize("status", [500, 502, 503, None])
def test_retries_then_succeeds(fake_github, make_github_client, method, path, call, status):
    fake_github.add_pull(2)
    fake_github.add_comments(2, 1, body=body_with_marker("a"), user=BOT)
    fake_github.fail_next(method, path, status, times=2)
    client = make_github_client()

    call(client)

    assert len(fake_github.requests_to(method, path)) == 3
    assert client.test_clock.waits != []  # urllib3 retries the first failure without waiting
    assert sum(client.test_clock.waits) <= 2.0


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        pytest.param("GET", r"/permission$", lambda c: c.permission("alice"), id="GET"),
        pytest.param("POST", r"/statuses/", lambda c: c.set_status(SHA, CommitState.SUCCESS, "seedbot/demo", "ok"), id="POST"),
    ],
)
@pytest.mark.parametrize("status", [403, 429])
def test_rate_limit_waits_retry_after(fake_github, make_github_client, method, path, call, status):
    fake_github.set_permission("alice", "write")
    fake_github.fail_next(method, path, status, headers={"Retry-After": "7"})
    client = make_github_client(deadline_s=60)

    call(client)

    assert client.test_clock.waits == [7]
    assert len(fake_github.requests_to(method, path)) == 2


@pytest.mark.parametrize(
    ("method", "path", "call", "status", "headers", "match"),
    [
        pytest.param(
            "GET", r"/pulls/2$", lambda c: c.get_pull(2), 502, {},
            r"reading PR #2 failed: HTTP 502: Server Error\. GitHub kept failing for 2 s of retries; rerun the job later",
            id="GET-502",
        ),
        pytest.param(
            "POST", r"/statuses/", lambda c: c.set_status(SHA, CommitState.SUCCESS, "seedbot/demo", "ok"), 503, {},
            r"setting commit status seedbot/demo on c+ failed: HTTP 503: .*rerun the job later",
            id="POST-503",
        ),
        pytest.param(
            "GET", r"/pulls/2$", lambda c: c.get_pull(2), 403, {"Retry-After": "30"},
            r"HTTP 403: You have exceeded a secondary rate limit.*rate-limited the token \(retries stop after 2 s\); rerun",
            id="GET-403-retry-after-past-deadline",
        ),
        pytest.param(
            "POST", r"/issues/2/comments$", lambda c: c.upsert_comment(2, MARKER, body_with_marker("b")), 429,
            {"Retry-After": "30"}, r"posting the seedbot comment on PR #2 failed: HTTP 429: .*rate limit",
            id="POST-429-retry-after-past-deadline",
        ),
        pytest.param(
            "GET", r"/pulls/2$", lambda c: c.get_pull(2), None, {},
            r"reading PR #2 failed: no usable response from http://127\.0\.0\.1:\d+ .*GITHUB_API_URL",
            id="GET-connection-dropped",
        ),
    ],
)
def test_gives_up_after_deadline(fake_github, make_github_client, method, path, call, status, headers, match):
    fake_github.add_pull(2)
    fake_github.fail_next(method, path, status, times=1000, headers=headers)
    client = make_github_client()

    with pytest.raises(GitHubError, match=match):
        call(client)

    assert sum(client.test_clock.waits) <= 2.0
    assert len(fake_github.requests_to(method, path)) < 50


def test_unreachable_api_bounded_per_call():
    deadline = 1.5
    client = GitHubClient("test-token", "octo-org/hello-world", f"http://127.0.0.1:{closed_port()}", deadline_s=deadline, throttle=False, backoff_factor=0.2)
    calls = [
        ("status", lambda: client.set_status(SHA, CommitState.PENDING, "seedbot/demo", "sweeping")),
        ("pull", lambda: client.get_pull(2)),
        ("file", lambda: client.read_file(".seedbot.yml", "main")),
        ("comment", lambda: client.upsert_comment(2, MARKER, body_with_marker("verdict"))),
        ("check run", lambda: client.create_check_run(SHA, "seedbot/demo", "success", "t", "s")),
    ]
    elapsed = {}

    for name, call in calls:
        started = time.monotonic()
        with pytest.raises(GitHubError, match=r"failed: .*GITHUB_API_URL") as raised:
            call()
        elapsed[name] = time.monotonic() - started
        if name != "status":
            assert "is still unreachable" in str(raised.value)

    # The first call retries until its deadline; the later ones try once and fail at once.
    assert deadline * 0.5 <= elapsed["status"] <= deadline + 1.0
    for name in ("pull", "file", "comment", "check run"):
        assert elapsed[name] < 0.5, (name, elapsed[name])


def test_reachable_again_restores_retries():
    port = closed_port()
    client = GitHubClient("test-token", "octo-org/hello-world", f"http://127.0.0.1:{port}", deadline_s=0.5, throttle=False, backoff_factor=0.1)
    with pytest.raises(GitHubError, match="no usable response"):
        client.get_pull(2)

    with serve(FakeGitHub(), port) as fake:
        fake.add_pull(2)
        fake.fail_next("GET", r"/pulls/2$", 502, times=2)
        with pytest.raises(GitHubError, match="HTTP 502"):
            client.get_pull(2)  # one attempt, but the server answered
        assert client.get_pull(2).number == 2  # retried past the second 502

    assert len(fake.requests_to("GET", r"/pulls/2$")) == 3


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.set_status(SHA, CommitState.PENDING, "seedbot/demo", "sweeping"), id="status-POST"),
        pytest.param(lambda c: c.upsert_comment(2, MARKER, body_with_marker("b")), id="comment-lookup-and-POST"),
    ],
)
def test_retry_layers_share_one_deadline(make_github_client, call):
    """urllib3's connect retries and the client's POST retries draw on one deadline, not one each."""
    client = make_github_client(api_url=f"http://127.0.0.1:{closed_port()}", deadline_s=2.0)

    with pytest.raises(GitHubError, match="no usable response"):
        call(client)

    assert 0 < sum(client.test_clock.waits) <= 2.0


def test_forbidden_without_retry_after_not_retried(fake_github, make_github_client):
    fake_github.fail_next("GET", r"/pulls/2$", 403, body={"message": "Resource not accessible by integration"})
    client = make_github_client()

    with pytest.raises(GitHubError, match=r"HTTP 403: Resource not accessible by integration\. The token lacks a permission"):
        client.get_pull(2)

    assert client.test_clock.waits == []
    assert len(fake_github.requests_to("GET", r"/pulls/2$")) == 1


def test_client_error_not_retried(fake_github, make_github_client):
    client = make_github_client()

    with pytest.raises(GitHubError, match="HTTP 422"):
        client.create_branch("x", "not-a-sha")

    assert len(fake_github.requests_to("POST", r"/git/refs$")) == 1
    assert client.test_clock.waits == []


def test_truncate_table():
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab…"
    assert len(truncate("x" * 1000, 140)) == 140


# The fake against GitHub's REST description


def test_fake_unknown_route_is_404_and_recorded(fake_github):
    url = f"{fake_github.url}/repos/octo-org/hello-world/labels?page=2"

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, timeout=5)

    assert raised.value.code == 404
    assert json.loads(raised.value.read())["message"] == "Not Found"
    assert fake_github.requests[-1].path == "/repos/octo-org/hello-world/labels"
    assert fake_github.requests[-1].query == {"page": "2"}


def _shape_problems(fake: Any, example: Any, path: str) -> list[str]:
    """List keys of `fake` missing from `example`, and values whose JSON type differs."""
    if fake is None or example is None:
        return []
    if isinstance(example, dict):
        if not isinstance(fake, dict):
            return [f"{path}: expected an object, got {type(fake).__name__}"]
        problems = []
        for key, value in fake.items():
            if key not in example:
                problems.append(f"{path}.{key}: not in GitHub's example")
            else:
                problems.extend(_shape_problems(value, example[key], f"{path}.{key}"))
        return problems
    if isinstance(example, list):
        if not isinstance(fake, list):
            return [f"{path}: expected an array, got {type(fake).__name__}"]
        return [p for item in fake[:1] for p in _shape_problems(item, example[0], f"{path}[0]")] if example else []
    numeric = (int, float)
    same = isinstance(fake, numeric) and isinstance(example, numeric) if isinstance(example, numeric) else type(fake) is type(example)
    return [] if same else [f"{path}: expected {type(example).__name__}, got {type(fake).__name__}"]


def _example(spec: dict[str, Any], path: str, method: str, status: str) -> Any:
    content = spec["paths"][path][method]["responses"][status]["content"]["application/json"]
    first = next(iter(content["examples"].values()))
    return spec["components"]["examples"][first["$ref"].rsplit("/", 1)[-1]]["value"]


@pytest.mark.skipif(not REST_DESCRIPTION.exists(), reason="GitHub's REST description is not checked out next to the repository")
def test_fake_payloads_match_rest_description(fake_github):
    spec = json.loads(REST_DESCRIPTION.read_text())
    repo = "/repos/{owner}/{repo}"
    fake_github.add_pull(1, head_repo="someone/fork")
    [comment_id] = fake_github.add_comments(1, 1)
    fake_github.set_permission("alice", "admin")
    fake_github.put_file("README.md", "hello\n")
    fake_github.statuses.append({"id": 1, "sha": SHA, "state": "success", "context": "c", "description": "d", "target_url": None})
    calls = [
        ("GET", "", None, repo, "get", "200"),
        ("GET", "/issues/1/comments", None, repo + "/issues/{issue_number}/comments", "get", "200"),
        ("POST", "/issues/1/comments", {"body": "x"}, repo + "/issues/{issue_number}/comments", "post", "201"),
        ("PATCH", f"/issues/comments/{comment_id}", {"body": "y"}, repo + "/issues/comments/{comment_id}", "patch", "200"),
        ("POST", f"/issues/comments/{comment_id}/reactions", {"content": "eyes"}, repo + "/issues/comments/{comment_id}/reactions", "post", "201"),
        ("POST", f"/statuses/{SHA}", {"state": "success", "context": "c"}, repo + "/statuses/{sha}", "post", "201"),
        ("GET", f"/commits/{SHA}/status", None, repo + "/commits/{ref}/status", "get", "200"),
        ("POST", "/check-runs", {"name": "n", "head_sha": SHA, "status": "completed", "conclusion": "success", "output": {"title": "t", "summary": "s"}}, repo + "/check-runs", "post", "201"),
        ("GET", "/collaborators/alice/permission", None, repo + "/collaborators/{username}/permission", "get", "200"),
        ("GET", "/pulls/1", None, repo + "/pulls/{pull_number}", "get", "200"),
        ("GET", "/contents/README.md", None, repo + "/contents/{path}", "get", "200"),
        ("PUT", "/contents/new.txt", {"message": "m", "content": "aGk="}, repo + "/contents/{path}", "put", "201"),
    ]
    problems = []
    for method, suffix, body, spec_path, spec_method, status in calls:
        code, _, payload = fake_github.handle(method, f"/repos/{fake_github.repository}{suffix}", body, {})
        assert str(code) == status, (method, suffix, payload)
        problems.extend(_shape_problems(payload, _example(spec, spec_path, spec_method, status), f"{method} {suffix or '/'}"))
    assert problems == [], "\n".join(problems)
