"""The Action's `run` against the fake GitHub, in-process, plus its settings and verdict policy.

Sweeps use a formula runner (no subprocess, no torch); the payload replays
through the real entry point live in test_entrypoint.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import pytest

from seedbot.action import (
    ActionSettings,
    FailOn,
    SeedShortfall,
    StoreSpec,
    check_conclusion,
    commit_state,
    exit_code,
    run,
    seed_shortfall,
    status_description,
    workspace_commit,
)
from seedbot.action_outputs import OUTPUT_NAMES, comparison_outputs, write_outputs
from seedbot.action_settings import override_seeds
from seedbot.config import Config
from seedbot.errors import ConfigError, GitHubError
from seedbot.github import CommitState, GitHubClient
from seedbot.github_store import GitHubBaselineStore
from seedbot.scorecard import Scorecard, SweepResult
from seedbot.verdict import Verdict
from tests.fixtures.action_workspace import (
    CONFIG_NAME,
    PAYLOADS,
    config_text,
    expected_accuracy,
    load_payload,
    parse_outputs,
    retarget_comment,
    retarget_pull_request,
    retarget_push,
    write_workspace,
)
from tests.fixtures.fake_github import closed_port

needs_payloads = pytest.mark.skipif(not PAYLOADS.is_dir(), reason=f"webhook payload samples not found at {PAYLOADS}")

HEAD = "c" * 40
MAIN = "d" * 40


class FormulaRunner:
    """Scores each seed by the shared formula; `on_seed` runs before each score (to move a PR head, say)."""

    def __init__(self, on_seed: Callable[[int], None] | None = None, fail_seeds: tuple[int, ...] = ()) -> None:
        self.on_seed = on_seed
        self.fail_seeds = fail_seeds
        self.shift = 0.0
        self.seeds_run: list[int] = []

    def prepare(self, config: Config) -> None:
        self.shift = float(config.runner.env.get("SEEDBOT_TEST_SHIFT", "0"))

    def run_seed(self, seed: int, output_dir: Path, progress: Any) -> Mapping[str, float]:
        self.seeds_run.append(seed)
        if self.on_seed is not None:
            self.on_seed(seed)
        if seed in self.fail_seeds:
            raise RuntimeError(f"seed {seed} diverged")
        return {"accuracy": expected_accuracy(seed, self.shift)}


@pytest.fixture
def harness(tmp_path, fake_github, make_github_client):
    return Harness(tmp_path, fake_github, make_github_client)


class Harness:
    """One repository checkout, the fake GitHub and a way to run the Action on an event."""

    def __init__(self, tmp_path: Path, fake, make_client) -> None:
        self.tmp_path = tmp_path
        self.fake = fake
        self.client = make_client()
        self.store = GitHubBaselineStore(self.client, sleep=lambda seconds: None)
        self.workspace = write_workspace(tmp_path / "checkout")
        self.summary = tmp_path / "summary.md"
        self.outputs = tmp_path / "outputs.txt"
        self.runner = FormulaRunner()
        self.events = 0

    def settings(self, event_name: str, payload: dict, **overrides: Any) -> ActionSettings:
        self.events += 1
        event_path = self.tmp_path / f"event-{self.events}.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        options: dict[str, Any] = dict(
            token="test-token",
            repository=self.fake.repository,
            event_name=event_name,
            event_path=event_path,
            sha=MAIN,
            api_url=self.fake.url,
            server_url="https://github.example",
            run_id="77",
            output_path=self.outputs,
            summary_path=self.summary,
            workspace=self.workspace,
        )
        options.update(overrides)
        return ActionSettings(**options)

    def run(self, event_name: str, payload: dict, **overrides: Any) -> int:
        settings = self.settings(event_name, payload, **overrides)
        return run(settings, client=self.client, store=self.store, runner_factory=lambda config: self.runner)

    def save_baseline(self) -> None:
        payload = retarget_push(load_payload("push/commits.json"), self.fake.repository, after=MAIN)
        assert self.run("push", payload) == 0

    def write_config(self, **config: Any) -> None:
        (self.workspace / ".seedbot.yml").write_text(config_text(**config), encoding="utf-8")

    def pull_request(self, *, number: int = 7, head_sha: str = HEAD, fork: bool = False, action_name: str = "synchronize") -> dict:
        self.fake.add_pull(number, head_sha=head_sha, head_repo="someone/fork" if fork else "")
        payload = retarget_pull_request(
            load_payload("pull_request/opened.fork.json" if fork else "pull_request/opened.json"),
            self.fake.repository,
            number=number,
            head_sha=head_sha,
            fork_repository="someone/fork" if fork else None,
        )
        payload["action"] = action_name
        return payload

    def statuses(self, sha: str) -> list[tuple[str, str]]:
        return [(status["context"], status["state"]) for status in self.fake.statuses if status["sha"] == sha]

    def read_outputs(self) -> dict[str, str]:
        return parse_outputs(self.outputs.read_text(encoding="utf-8"))


# --- settings ------------------------------------------------------------------------

BASE_ENVIRON = {
    "GITHUB_REPOSITORY": "octo-org/hello-world",
    "GITHUB_EVENT_NAME": "pull_request",
    "GITHUB_EVENT_PATH": "/github/workflow/event.json",
    "GITHUB_SHA": "a" * 40,
    "GITHUB_RUN_ID": "42",
    "GITHUB_WORKSPACE": "/github/workspace",
    "INPUT_TOKEN": "ghs_secret",
}


def test_settings_defaults():
    settings = ActionSettings.from_environ(BASE_ENVIRON)

    assert settings.configs == (Path(".seedbot.yml"),)
    assert settings.fail_on is FailOn.REGRESSION
    assert settings.baseline_store == StoreSpec(kind="branch", location="seedbot-baselines")
    assert settings.comment is True
    assert settings.dry_run is False
    assert settings.seeds is None
    assert settings.api_url == "https://api.github.com"
    assert settings.run_url == "https://github.com/octo-org/hello-world/actions/runs/42"
    assert settings.output_path is None


def test_settings_repr_hides_token():
    settings = ActionSettings.from_environ(BASE_ENVIRON)

    assert "ghs_secret" not in repr(settings)
    assert settings.token == "ghs_secret"


@pytest.mark.parametrize(
    ("inputs", "field", "expected"),
    [
        ({"INPUT_FAIL-ON": "never"}, "fail_on", FailOn.NEVER),
        ({"INPUT_FAIL_ON": "regression-or-inconclusive"}, "fail_on", FailOn.REGRESSION_OR_INCONCLUSIVE),
        ({"INPUT_SEEDS": "8"}, "seeds", 8),
        ({"INPUT_SEEDS": " "}, "seeds", None),
        ({"INPUT_DRY-RUN": "true"}, "dry_run", True),
        ({"INPUT_COMMENT": "false"}, "comment", False),
        ({"INPUT_BASELINE-STORE": "local:.seedbot/baselines"}, "baseline_store", StoreSpec(kind="local", location=".seedbot/baselines")),
        ({"INPUT_BASELINE_STORE": "branch:perf-baselines"}, "baseline_store", StoreSpec(kind="branch", location="perf-baselines")),
        ({"INPUT_CONFIG": "a.yml, b/c.yml"}, "configs", (Path("a.yml"), Path("b/c.yml"))),
        ({"INPUT_CONFIG": "a.yml\nb.yml\n\na.yml\n"}, "configs", (Path("a.yml"), Path("b.yml"))),
    ],
)
def test_settings_inputs(inputs, field, expected):
    settings = ActionSettings.from_environ({**BASE_ENVIRON, **inputs})

    assert getattr(settings, field) == expected


def test_settings_hyphenated_input_wins():
    settings = ActionSettings.from_environ({**BASE_ENVIRON, "INPUT_FAIL-ON": "never", "INPUT_FAIL_ON": "regression"})

    assert settings.fail_on is FailOn.NEVER


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"INPUT_FAIL-ON": "sometimes"}, r"fail-on: must be one of regression, regression-or-inconclusive, never, got 'sometimes'"),
        ({"INPUT_SEEDS": "five"}, r"seeds: must be a positive integer .*got 'five'"),
        ({"INPUT_SEEDS": "0"}, r"seeds: must be a positive integer .*got '0'"),
        ({"INPUT_BASELINE-STORE": "s3:bucket"}, r"baseline-store: must be `branch:<branch name>` or `local:<directory>`, got 's3:bucket'"),
        ({"INPUT_BASELINE-STORE": "branch:"}, r"baseline-store: must be"),
        ({"INPUT_BASELINE-STORE": "local:/etc"}, r"baseline-store: local directory '/etc' must be relative"),
        ({"INPUT_COMMENT": "maybe"}, r"comment: must be true or false, got 'maybe'"),
        ({"INPUT_DRY-RUN": "2"}, r"dry-run: must be true or false, got '2'"),
        ({"INPUT_CONFIG": "../outside.yml"}, r"config: '../outside.yml' must be a path inside the repository"),
        ({"INPUT_TOKEN": ""}, r"token: is empty"),
        ({"GITHUB_REPOSITORY": "no-slash"}, r"GITHUB_REPOSITORY: expected 'owner/name', got 'no-slash'"),
        ({"GITHUB_EVENT_PATH": ""}, r"GITHUB_EVENT_NAME and GITHUB_EVENT_PATH must be set"),
    ],
)
def test_settings_invalid_inputs(change, message):
    with pytest.raises(ConfigError, match=message):
        ActionSettings.from_environ({**BASE_ENVIRON, **change})


def test_settings_token_falls_back_to_github_token():
    environ = {key: value for key, value in BASE_ENVIRON.items() if key != "INPUT_TOKEN"}

    assert ActionSettings.from_environ({**environ, "GITHUB_TOKEN": "fallback"}).token == "fallback"


# --- verdict policy ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdict", "fail_on", "state", "code", "conclusion"),
    [
        (Verdict.IMPROVED, FailOn.REGRESSION, CommitState.SUCCESS, 0, "success"),
        (Verdict.NO_CHANGE, FailOn.REGRESSION, CommitState.SUCCESS, 0, "success"),
        (Verdict.REGRESSED, FailOn.REGRESSION, CommitState.FAILURE, 1, "failure"),
        (Verdict.INCONCLUSIVE, FailOn.REGRESSION, CommitState.SUCCESS, 0, "neutral"),
        (Verdict.NO_BASELINE, FailOn.REGRESSION, CommitState.SUCCESS, 0, "neutral"),
        (Verdict.INCONCLUSIVE, FailOn.REGRESSION_OR_INCONCLUSIVE, CommitState.FAILURE, 1, "failure"),
        (Verdict.NO_BASELINE, FailOn.REGRESSION_OR_INCONCLUSIVE, CommitState.FAILURE, 1, "failure"),
        (Verdict.REGRESSED, FailOn.REGRESSION_OR_INCONCLUSIVE, CommitState.FAILURE, 1, "failure"),
        (Verdict.REGRESSED, FailOn.NEVER, CommitState.FAILURE, 0, "failure"),
        (Verdict.INCONCLUSIVE, FailOn.NEVER, CommitState.SUCCESS, 0, "neutral"),
    ],
)
def test_verdict_policy(verdict, fail_on, state, code, conclusion):
    assert commit_state(verdict, fail_on) is state
    assert exit_code(verdict, fail_on) == code
    assert check_conclusion(verdict, state) == conclusion


@pytest.mark.parametrize(
    ("verdict", "fail_on", "state", "code"),
    [
        (Verdict.NO_BASELINE, FailOn.REGRESSION, CommitState.ERROR, 1),
        (Verdict.INCONCLUSIVE, FailOn.REGRESSION, CommitState.ERROR, 1),
        (Verdict.NO_CHANGE, FailOn.REGRESSION, CommitState.ERROR, 1),
        (Verdict.IMPROVED, FailOn.REGRESSION_OR_INCONCLUSIVE, CommitState.ERROR, 1),
        (Verdict.NO_CHANGE, FailOn.NEVER, CommitState.ERROR, 0),
        (Verdict.REGRESSED, FailOn.REGRESSION, CommitState.FAILURE, 1),
    ],
)
def test_verdict_policy_with_failed_seeds(verdict, fail_on, state, code):
    shortfall = SeedShortfall(failed=(3,), planned=5)

    assert commit_state(verdict, fail_on, shortfall) is state
    assert exit_code(verdict, fail_on, shortfall) == code
    assert check_conclusion(verdict, commit_state(verdict, fail_on, shortfall)) == "failure"


def make_sweep(ran: dict[int, str], planned: list[int], stop_reason: str | None = None) -> SweepResult:
    cards = tuple(
        Scorecard(
            seed=seed,
            status=status,
            metrics={"accuracy": 0.9} if status == "ok" else {},
            duration_s=1.0,
            config_hash="c",
            dataset_hash="d",
            provenance={},
            error=None if status == "ok" else "exit 1",
        )
        for seed, status in ran.items()
    )
    return SweepResult(
        config_name="gate", config_hash="c", dataset_hash="d", scorecards=cards, provenance={},
        stop_reason=stop_reason, extra={"seeds": planned},
    )


@pytest.mark.parametrize(
    ("ran", "planned", "stop_reason", "failed", "missing", "description"),
    [
        ({0: "ok", 1: "ok", 2: "ok"}, [0, 1, 2], None, (), (), ""),
        ({0: "failed", 1: "ok", 2: "failed"}, [0, 1, 2], None, (0, 2), (), "2 of 3 seeds failed"),
        ({0: "ok", 1: "ok"}, [0, 1, 2, 3], None, (), (2, 3), "2 of 4 seeds never ran"),
        ({0: "failed"}, [0, 1], None, (0,), (1,), "1 of 2 seeds failed and 1 of 2 seeds never ran"),
        ({0: "ok", 1: "ok", 2: "ok"}, [0, 1, 2, 3, 4], "interval excludes 0 after 3 seeds", (), (), ""),
    ],
)
def test_seed_shortfall(ran, planned, stop_reason, failed, missing, description):
    shortfall = seed_shortfall(make_sweep(ran, planned, stop_reason))

    assert shortfall.failed == failed
    assert shortfall.missing == missing
    assert shortfall.describe() == description
    assert bool(shortfall) is bool(description)


def test_status_description_counts_failed_seeds_first():
    class Stub:
        verdict = Verdict.NO_BASELINE
        reason = "no stored baseline for gate " + "x" * 200

    text = status_description(Stub(), FailOn.REGRESSION, SeedShortfall(failed=(0, 1, 2, 3, 4), planned=5))  # type: ignore[arg-type]

    assert text.startswith("5 of 5 seeds failed; no baseline: ")
    assert "passes" not in text


@pytest.mark.parametrize(
    ("configured", "count", "expected"),
    [
        ((0, 1, 2, 3, 4), 3, (0, 1, 2)),
        ((0, 1, 2, 3, 4), 7, (0, 1, 2, 3, 4, 5, 6)),
        ((11, 22, 33), 5, (11, 22, 33, 34, 35)),
        ((5, 1), 4, (5, 1, 6, 7)),
    ],
)
def test_override_seeds(configured, count, expected):
    assert override_seeds(configured, count) == expected


def test_write_outputs_multiline(tmp_path):
    path = tmp_path / "outputs.txt"

    write_outputs(path, {"verdict": "regressed", "note": "two\nlines"})
    write_outputs(path, {"comment-url": ""})

    assert parse_outputs(path.read_text(encoding="utf-8")) == {"verdict": "regressed", "note": "two\nlines", "comment-url": ""}


# --- pull requests -------------------------------------------------------------------


@needs_payloads
def test_regressed_pull_request_fails_gate(harness):
    harness.save_baseline()
    harness.write_config(shift=-0.05)

    code = harness.run("pull_request", harness.pull_request())

    assert code == 1
    assert harness.statuses(HEAD) == [(f"seedbot/{CONFIG_NAME}", "pending"), (f"seedbot/{CONFIG_NAME}", "failure")]
    final = harness.fake.statuses[-1]
    assert final["description"].startswith("regressed: ")
    assert len(final["description"]) <= 140
    assert final["target_url"] == "https://github.example/octo-org/hello-world/actions/runs/77"
    comments = harness.fake.comments_on(7)
    assert len(comments) == 1
    assert "Regressed" in comments[0].body
    [check_run] = harness.fake.check_runs.values()
    assert check_run["conclusion"] == "failure"
    assert check_run["head_sha"] == HEAD
    outputs = harness.read_outputs()
    assert outputs["verdict"] == "regressed"
    assert float(outputs["delta"]) == pytest.approx(-0.05)
    assert float(outputs["candidate-mean"]) == pytest.approx(0.8550 - 0.05)
    assert outputs["comment-url"].endswith(f"#issuecomment-{comments[0].id}")
    assert Path(outputs["result-file"]).is_file()
    assert "Regressed" in harness.summary.read_text(encoding="utf-8")


@needs_payloads
def test_unchanged_pull_request_passes(harness):
    harness.save_baseline()

    code = harness.run("pull_request", harness.pull_request())

    assert code == 0
    assert harness.statuses(HEAD)[-1] == (f"seedbot/{CONFIG_NAME}", "success")
    assert harness.read_outputs()["verdict"] in ("no_change", "improved")


@needs_payloads
@pytest.mark.parametrize(
    ("fail_on", "code", "state"),
    [
        (FailOn.REGRESSION, 0, "success"),
        (FailOn.REGRESSION_OR_INCONCLUSIVE, 1, "failure"),
        (FailOn.NEVER, 0, "success"),
    ],
)
def test_no_baseline_follows_fail_on(harness, fail_on, code, state):
    assert harness.run("pull_request", harness.pull_request(), fail_on=fail_on) == code

    final = harness.fake.statuses[-1]
    assert final["state"] == state
    assert final["description"].startswith("no baseline")
    assert harness.read_outputs()["verdict"] == "no_baseline"


@needs_payloads
@pytest.mark.parametrize(
    ("fail_on", "code"),
    [(FailOn.REGRESSION, 1), (FailOn.REGRESSION_OR_INCONCLUSIVE, 1), (FailOn.NEVER, 0)],
)
@pytest.mark.parametrize("with_baseline", [True, False], ids=["baseline", "no-baseline"])
def test_all_seeds_failed_never_passes(harness, fail_on, code, with_baseline):
    if with_baseline:
        harness.save_baseline()
    harness.runner.fail_seeds = (0, 1, 2, 3, 4)

    assert harness.run("pull_request", harness.pull_request(), fail_on=fail_on) == code

    final = harness.fake.statuses[-1]
    assert final["state"] == "error"
    assert final["description"].startswith("5 of 5 seeds failed; ")
    assert "passes" not in final["description"]
    [check_run] = harness.fake.check_runs.values()
    assert check_run["conclusion"] == "failure"
    summary = harness.summary.read_text(encoding="utf-8")
    assert "5 of 5 seeds failed (seeds failed: 0, 1, 2, 3, 4)" in summary
    assert "5 of 5 seeds failed" in harness.fake.comments_on(7)[0].body
    assert harness.read_outputs()["verdict"] == ("inconclusive" if with_baseline else "no_baseline")


@needs_payloads
def test_one_failed_seed_blocks_pass(harness):
    harness.save_baseline()
    harness.runner.fail_seeds = (2,)

    code = harness.run("pull_request", harness.pull_request())

    assert code == 1
    assert harness.statuses(HEAD)[-1] == (f"seedbot/{CONFIG_NAME}", "error")
    assert harness.fake.statuses[-1]["description"].startswith("1 of 5 seeds failed; ")


@needs_payloads
def test_dispatch_with_failed_seeds_errors(harness):
    harness.save_baseline()
    harness.runner.fail_seeds = (0, 1)

    assert harness.run("workflow_dispatch", load_payload("workflow_dispatch/payload.json"), sha=HEAD) == 1
    assert harness.statuses(HEAD) == [(f"seedbot/{CONFIG_NAME}", "error")]
    assert "2 of 5 seeds failed" in harness.summary.read_text(encoding="utf-8")


@needs_payloads
def test_fail_on_never_keeps_failing_status(harness):
    harness.save_baseline()
    harness.write_config(shift=-0.05)

    assert harness.run("pull_request", harness.pull_request(), fail_on=FailOn.NEVER) == 0
    assert harness.fake.statuses[-1]["state"] == "failure"


@needs_payloads
def test_gate_comes_from_base_branch(harness):
    harness.save_baseline()
    # The base branch gates with no practical margin; the PR tries to ignore drops below 0.1.
    harness.fake.put_file(".seedbot.yml", config_text(decision={"min_effect": 0.0}), branch="main")
    harness.write_config(shift=-0.05, decision={"min_effect": 0.1})

    code = harness.run("pull_request", harness.pull_request())

    assert code == 1
    body = harness.fake.comments_on(7)[0].body
    assert "Under this PR's own `decision` section" in body
    assert "Regressed" in body
    assert harness.read_outputs()["verdict"] == "regressed"


@needs_payloads
def test_same_decision_shows_one_verdict(harness):
    harness.save_baseline()
    harness.fake.put_file(".seedbot.yml", config_text(), branch="main")

    harness.run("pull_request", harness.pull_request())

    assert "Under this PR's own" not in harness.fake.comments_on(7)[0].body


@needs_payloads
def test_new_config_uses_own_decision(harness):
    harness.run("pull_request", harness.pull_request())

    body = harness.fake.comments_on(7)[0].body
    assert "does not exist on main" in body


@needs_payloads
def test_moved_head_marks_result_stale(harness):
    harness.save_baseline()
    new_head = "e" * 40

    def push_during_sweep(seed: int) -> None:
        harness.fake.pulls[7].head_sha = new_head

    harness.runner.on_seed = push_during_sweep
    harness.run("pull_request", harness.pull_request())

    assert harness.statuses(HEAD)[-1][1] == "success"
    assert harness.statuses(new_head) == []
    body = harness.fake.comments_on(7)[0].body
    assert "moved to `eeeeeee" in body


@needs_payloads
def test_comment_failure_keeps_verdict(harness):
    harness.save_baseline()
    harness.write_config(shift=-0.05)
    harness.fake.fail_next("POST", r"/issues/7/comments$", 403, body={"message": "Resource not accessible by integration"})

    code = harness.run("pull_request", harness.pull_request())

    assert code == 1
    assert harness.fake.comments_on(7) == []
    assert harness.statuses(HEAD)[-1][1] == "failure"
    summary = harness.summary.read_text(encoding="utf-8")
    assert "could not be posted" in summary
    assert "Regressed" in summary
    assert harness.read_outputs()["comment-url"] == ""


@needs_payloads
def test_fork_with_read_only_token(harness):
    harness.save_baseline()
    harness.write_config(shift=-0.05)
    harness.fake.read_only = True

    code = harness.run("pull_request", harness.pull_request(fork=True))

    assert code == 1
    assert harness.fake.statuses == []
    assert harness.fake.comments_on(7) == []
    assert "Regressed" in harness.summary.read_text(encoding="utf-8")
    assert harness.read_outputs()["verdict"] == "regressed"


@needs_payloads
def test_dry_run_writes_nothing(harness):
    harness.save_baseline()
    writes_before = [r for r in harness.fake.requests if r.method != "GET"]

    code = harness.run("pull_request", harness.pull_request(), dry_run=True)

    assert code == 0
    assert [r for r in harness.fake.requests if r.method != "GET"] == writes_before
    assert "Dry run" in harness.summary.read_text(encoding="utf-8")


@needs_payloads
def test_comment_off_still_sets_status(harness):
    harness.save_baseline()

    harness.run("pull_request", harness.pull_request(), comment=False)

    assert harness.fake.comments_on(7) == []
    assert harness.statuses(HEAD)[-1][1] == "success"


@needs_payloads
def test_seeds_input_overrides_config(harness):
    harness.save_baseline()
    harness.runner.seeds_run.clear()

    harness.run("pull_request", harness.pull_request(), seeds=3)

    assert harness.runner.seeds_run == [0, 1, 2]
    assert "Seed count overridden to 3" in harness.fake.comments_on(7)[0].body


@needs_payloads
def test_broken_config_errors_and_others_run(harness):
    harness.save_baseline()
    (harness.workspace / "broken.seedbot.yml").write_text("name: broken\nmodel: [unclosed\n", encoding="utf-8")

    code = harness.run("pull_request", harness.pull_request(), configs=(Path("broken.seedbot.yml"), Path(".seedbot.yml")))

    assert code == 2
    assert ("seedbot/broken", "error") in harness.statuses(HEAD)
    assert harness.statuses(HEAD)[-1] == (f"seedbot/{CONFIG_NAME}", "success")
    assert "`broken.seedbot.yml` failed" in harness.summary.read_text(encoding="utf-8")
    assert harness.read_outputs()["verdict"] in ("no_change", "improved")


@needs_payloads
def test_missing_config_rejected_before_api(harness):
    with pytest.raises(ConfigError, match=r"config: nope\.yml not found in the workspace .*check the `config` input"):
        harness.run("pull_request", harness.pull_request(), configs=(Path("nope.yml"),))

    assert harness.fake.requests == []


@needs_payloads
def test_unreachable_api_bounded_time(harness):
    deadline_s = 3.0
    client = GitHubClient("test-token", harness.fake.repository, f"http://127.0.0.1:{closed_port()}", deadline_s=deadline_s, throttle=False, backoff_factor=0.2)
    settings = harness.settings("pull_request", harness.pull_request(), api_url=client.api_url)
    store = GitHubBaselineStore(client, sleep=lambda seconds: None)
    started = time.monotonic()

    code = run(settings, client=client, store=store, runner_factory=lambda config: harness.runner)

    # The pending status waits out the deadline; the base-branch read and the error
    # status then fail on their single attempt. Without that, each would wait its own deadline.
    assert time.monotonic() - started < deadline_s + 1.5
    assert code == GitHubError.exit_code
    summary = harness.summary.read_text(encoding="utf-8")
    assert "`.seedbot.yml` failed" in summary
    assert "is still unreachable" in summary
    assert harness.read_outputs() == {"verdict": "error"}


@needs_payloads
def test_outputs_describe_worst_config(harness):
    harness.save_baseline()
    write_workspace(harness.workspace, config_path="second.seedbot.yml", name="second", shift=-0.05)

    code = harness.run("pull_request", harness.pull_request(), configs=(Path(".seedbot.yml"), Path("second.seedbot.yml")))

    assert code == 0
    assert len(harness.fake.comments_on(7)) == 2
    assert harness.read_outputs()["verdict"] == "no_baseline"


@needs_payloads
@pytest.mark.parametrize("action_name", ["closed", "labeled"])
def test_pull_request_action_filter(harness, action_name):
    code = harness.run("pull_request", harness.pull_request(action_name=action_name))

    assert code == 0
    ran = bool(harness.fake.statuses)
    assert ran is (action_name == "labeled")


# --- rerun command -------------------------------------------------------------------


def rerun_payload(harness: Harness, body: str = "/seedbot rerun", login: str = "maintainer") -> dict:
    return retarget_comment(
        load_payload("issue_comment/created.pull_request.json"), harness.fake.repository, number=7, body=body, login=login
    )


def maintainer_rerun(harness: Harness, body: str = "/seedbot rerun", *, level: str = "admin", pull_state: str | None = "open") -> dict:
    """Post `body` on PR 7 as a maintainer with `level` permission and return the event payload for it."""
    harness.fake.set_permission("maintainer", level)
    [comment_id] = harness.fake.add_comments(7, 1, body=body, user="maintainer")
    payload = rerun_payload(harness, body)
    payload["comment"]["id"] = comment_id
    if pull_state is not None:
        harness.fake.add_pull(7, head_sha=HEAD, state=pull_state)
    return payload


def reactions(harness: Harness) -> list[str]:
    return [reaction["content"] for reaction in harness.fake.reactions]


@needs_payloads
@pytest.mark.parametrize("level", ["write", "maintain", "admin"])
def test_authorized_rerun_sweeps_current_head(harness, level):
    harness.save_baseline()
    payload = maintainer_rerun(harness, "/seedbot rerun seeds=4", level=level)
    harness.runner.seeds_run.clear()

    code = harness.run("issue_comment", payload)

    assert code == 0
    assert harness.runner.seeds_run == [0, 1, 2, 3]
    assert harness.statuses(HEAD) == [(f"seedbot/{CONFIG_NAME}", "pending"), (f"seedbot/{CONFIG_NAME}", "success")]
    assert reactions(harness) == ["eyes", "rocket"]


@needs_payloads
def test_rerun_sweeps_checked_out_commit(harness):
    """A push between checkout and the API lookup: the status goes to what was swept."""
    older = "1" * 40
    (harness.workspace / ".git").mkdir()
    (harness.workspace / ".git" / "HEAD").write_text(older + "\n")
    harness.save_baseline()
    payload = maintainer_rerun(harness)

    assert harness.run("issue_comment", payload) == 0
    assert harness.statuses(older) == [(f"seedbot/{CONFIG_NAME}", "pending"), (f"seedbot/{CONFIG_NAME}", "success")]
    assert harness.statuses(HEAD) == []
    [comment] = [c for c in harness.fake.comments_on(7) if "seedbot:config" in c.body]
    assert HEAD[:7] in comment.body


@pytest.mark.parametrize(("files", "expected"), [
    ({"HEAD": "a" * 40 + "\n"}, "a" * 40),
    ({"HEAD": "ref: refs/heads/main\n", "refs/heads/main": "b" * 40 + "\n"}, "b" * 40),
    ({"HEAD": "ref: refs/heads/main\n", "packed-refs": "# pack-refs\n" + "c" * 40 + " refs/heads/main\n"}, "c" * 40),
    ({"HEAD": "ref: refs/heads/gone\n"}, None),
    ({}, None),
])
def test_workspace_commit(tmp_path, files, expected):
    for name, text in files.items():
        path = tmp_path / ".git" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert workspace_commit(tmp_path) == expected


@needs_payloads
def test_rerun_regression_reacts_thumbs_down(harness):
    harness.save_baseline()
    harness.write_config(shift=-0.05)
    payload = maintainer_rerun(harness)

    assert harness.run("issue_comment", payload) == 1
    assert reactions(harness) == ["eyes", "-1"]


@needs_payloads
def test_rerun_with_failed_seeds_reacts_confused(harness):
    harness.save_baseline()
    harness.runner.fail_seeds = (4,)
    payload = maintainer_rerun(harness)

    assert harness.run("issue_comment", payload) == 1
    assert reactions(harness) == ["eyes", "confused"]


@needs_payloads
@pytest.mark.parametrize("level", ["read", "triage", None])
def test_unauthorized_rerun_starts_nothing(harness, level):
    if level is not None:
        harness.fake.set_permission("visitor", level)
    harness.fake.add_pull(7, head_sha=HEAD)
    harness.runner.seeds_run.clear()

    code = harness.run("issue_comment", rerun_payload(harness, login="visitor"))

    assert code == 0
    assert harness.runner.seeds_run == []
    assert harness.fake.statuses == []
    assert reactions(harness) == []
    [reply] = harness.fake.comments_on(7)
    assert reply.body.startswith("@visitor ")
    assert "write, maintain or admin" in reply.body


@needs_payloads
def test_rerun_bad_seeds_replies_with_error(harness):
    payload = maintainer_rerun(harness, "/seedbot rerun seeds=lots", level="write", pull_state=None)

    with pytest.raises(ConfigError, match="seeds must be an integer from 1 to 64, got 'lots'"):
        harness.run("issue_comment", payload)

    assert reactions(harness) == ["confused"]
    assert "got 'lots'" in harness.fake.comments_on(7)[-1].body
    assert harness.fake.statuses == []


@needs_payloads
def test_rerun_on_closed_pull_request(harness):
    payload = maintainer_rerun(harness, level="write", pull_state="closed")

    assert harness.run("issue_comment", payload) == 0
    assert harness.fake.statuses == []
    assert "is closed; nothing to rerun" in harness.fake.comments_on(7)[-1].body


# --- baselines -----------------------------------------------------------------------


@needs_payloads
def test_push_saves_baseline_on_branch(harness):
    harness.save_baseline()

    stored = json.loads(harness.fake.file_text(f".seedbot/baselines/{CONFIG_NAME}.json", "seedbot-baselines"))
    assert stored["config_name"] == CONFIG_NAME
    assert stored["pool"][0]["commit"] == MAIN
    assert "Saved as the new baseline in branch:seedbot-baselines" in harness.summary.read_text(encoding="utf-8")
    outputs = harness.read_outputs()
    assert outputs["baseline-saved"] == "true"
    assert outputs["verdict"] == "no_baseline"


@needs_payloads
@pytest.mark.parametrize(("shift", "pools"), [(0.0, 1), (0.05, 2), (-0.05, 2)])
def test_push_pools_unless_verdict_changed(harness, shift, pools):
    """Same scores join the pool; a significant change on main starts a new pool."""
    harness.save_baseline()
    harness.write_config(shift=shift)
    payload = retarget_push(load_payload("push/commits.json"), harness.fake.repository, after="e" * 40)

    assert harness.run("push", payload) == 0

    stored = json.loads(harness.fake.file_text(f".seedbot/baselines/{CONFIG_NAME}.json", "seedbot-baselines"))
    assert stored["pool"][0]["commit"] == "e" * 40
    assert len(stored["pool"]) + len(stored["history"]) == 2
    assert len(stored["history"]) == pools - 1


@needs_payloads
def test_pull_request_saves_no_baseline(harness):
    harness.save_baseline()
    harness.outputs.unlink()

    harness.run("pull_request", harness.pull_request())

    assert harness.read_outputs()["baseline-saved"] == "false"


@needs_payloads
def test_dry_run_push_reports_not_saved(harness):
    payload = retarget_push(load_payload("push/commits.json"), harness.fake.repository, after=MAIN)

    assert harness.run("push", payload, dry_run=True) == 0
    assert harness.read_outputs()["baseline-saved"] == "false"


@needs_payloads
def test_baseline_refused_below_min_seeds(harness):
    harness.runner.fail_seeds = (0, 1, 2, 3)
    payload = retarget_push(load_payload("push/commits.json"), harness.fake.repository, after=MAIN)

    code = harness.run("push", payload)

    assert code == 2
    assert harness.fake.file_text(f".seedbot/baselines/{CONFIG_NAME}.json", "seedbot-baselines") is None
    assert harness.statuses(MAIN) == [(f"seedbot/{CONFIG_NAME}", "error")]
    assert "only 1 of 5 seeds succeeded" in harness.summary.read_text(encoding="utf-8")


@needs_payloads
def test_dispatch_rebuilds_baseline(harness):
    payload = load_payload("workflow_dispatch/payload.json")
    payload["inputs"] = {"rebuild-baseline": "true"}

    assert harness.run("workflow_dispatch", payload) == 0
    assert harness.fake.file_text(f".seedbot/baselines/{CONFIG_NAME}.json", "seedbot-baselines") is not None


@needs_payloads
def test_dispatch_compares_and_sets_status(harness):
    harness.save_baseline()
    harness.write_config(shift=-0.05)
    payload = load_payload("workflow_dispatch/payload.json")

    assert harness.run("workflow_dispatch", payload, sha=HEAD) == 1
    assert harness.statuses(HEAD) == [(f"seedbot/{CONFIG_NAME}", "failure")]


@needs_payloads
def test_skipped_event_writes_summary(harness):
    code = harness.run("check_suite", load_payload("check_suite/requested.json"))

    assert code == 0
    assert harness.fake.requests == []
    assert "Nothing ran: event 'check_suite' is not handled" in harness.summary.read_text(encoding="utf-8")
    assert harness.read_outputs() == {"verdict": "skipped"}


def test_comparison_outputs_without_gating_metric(harness):
    class Empty:
        verdict = Verdict.NO_BASELINE
        gating = ()

    outputs = comparison_outputs(Empty(), result_path=None, comment_url=None)  # type: ignore[arg-type]

    assert outputs["verdict"] == "no_baseline"
    assert outputs["delta"] == ""
    assert set(outputs) == set(OUTPUT_NAMES)
