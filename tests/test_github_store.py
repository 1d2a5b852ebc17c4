"""GitHubBaselineStore against the fake GitHub API: branch creation, merging, and concurrent writers."""

from __future__ import annotations

import json
import random
import threading

import pytest

from seedbot.baseline import BaselineRun, baseline_from_dict, baseline_to_dict, merge_run
from seedbot.errors import BaselineError
from seedbot.github_store import GitHubBaselineStore
from seedbot.scorecard import Scorecard

BRANCH = "seedbot-baselines"
PATH = ".seedbot/baselines/demo.json"
PROVENANCE = {"python": "3.11.9", "torch": "2.13.0", "transformers": "5.0.0", "peft": "0.21.0", "device": "cpu"}


def make_run(index: int, *, config_hash: str = "cfg1", score: float = 0.8) -> BaselineRun:
    cards = tuple(
        Scorecard(
            seed=seed,
            status="ok",
            metrics={"accuracy": score + 0.01 * seed},
            duration_s=1.5,
            config_hash=config_hash,
            dataset_hash="data1",
            provenance=PROVENANCE,
        )
        for seed in range(3)
    )
    return BaselineRun(
        commit=f"{index:040x}",
        created_at=f"2026-01-01T00:00:{index:02d}Z",
        config_hash=config_hash,
        dataset_hash="data1",
        provenance=PROVENANCE,
        scorecards=cards,
    )


def make_store(make_github_client, **overrides) -> GitHubBaselineStore:
    options = {"backoff_s": 0.001, "sleep": lambda seconds: None}
    options.update(overrides)
    return GitHubBaselineStore(make_github_client(), **options)


def stored_commits(fake_github) -> list[str]:
    raw = json.loads(fake_github.file_text(PATH, BRANCH))
    baseline = baseline_from_dict(raw, source="test")
    return [run.commit for run in (*baseline.pool, *baseline.history)]


def test_load_without_branch_is_none(fake_github, make_github_client):
    store = make_store(make_github_client)

    assert store.load("demo") is None
    assert BRANCH not in fake_github.branches
    assert fake_github.requests_to("POST", r"/git/refs$") == []


def test_first_save_creates_branch(fake_github, make_github_client):
    main_head = fake_github.branches["main"]
    store = make_store(make_github_client)

    saved = store.save("demo", make_run(1))

    [create_ref] = fake_github.requests_to("POST", r"/git/refs$")
    assert create_ref.body == {"ref": f"refs/heads/{BRANCH}", "sha": main_head}
    assert fake_github.file_text(PATH, BRANCH) is not None
    assert fake_github.file_text(PATH, "main") is None
    assert [run.commit for run in saved.pool] == [make_run(1).commit]
    assert store.load("demo") == saved


def test_save_merges_into_stored_pool(fake_github, make_github_client):
    store = make_store(make_github_client)

    store.save("demo", make_run(1))
    store.save("demo", make_run(2))
    loaded = store.load("demo")

    assert [run.commit for run in loaded.pool] == [make_run(2).commit, make_run(1).commit]
    assert len(fake_github.requests_to("POST", r"/git/refs$")) == 1


def test_new_pool_moves_old_runs_to_history(fake_github, make_github_client):
    store = make_store(make_github_client)
    store.save("demo", make_run(1))

    saved = store.save("demo", make_run(2), new_pool=True)

    assert [run.commit for run in saved.pool] == [make_run(2).commit]
    assert [run.commit for run in saved.history] == [make_run(1).commit]


def test_existing_branch_is_reused(fake_github, make_github_client):
    fake_github.branches[BRANCH] = "e" * 40
    store = make_store(make_github_client)

    store.save("demo", make_run(1))

    assert fake_github.requests_to("POST", r"/git/refs$") == []


def test_concurrent_writers_lose_no_run(fake_github, make_github_client):
    writers = 12
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def save(index: int) -> None:
        store = GitHubBaselineStore(
            make_github_client(), backoff_s=0.005, backoff_max_s=0.05, rng=random.Random(index)
        )
        barrier.wait()
        try:
            store.save("demo", make_run(index))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=save, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(stored_commits(fake_github)) == sorted(make_run(i).commit for i in range(writers))
    assert len(fake_github.requests_to("PUT", r"/contents/")) > writers  # some writes met a newer file
    assert len(fake_github.requests_to("POST", r"/git/refs$")) >= 1
    assert len([b for b in fake_github.branches if b == BRANCH]) == 1


def test_write_landed_despite_502_saved_once(fake_github, make_github_client):
    store = make_store(make_github_client)
    store.save("demo", make_run(1))
    fake_github.land_then_fail("PUT", r"/contents/", 502)

    store.save("demo", make_run(2))

    assert stored_commits(fake_github) == [make_run(2).commit, make_run(1).commit]


def test_conflict_rereads_and_merges(fake_github, make_github_client):
    store = make_store(make_github_client)
    store.save("demo", make_run(1))
    other = make_store(make_github_client)
    other_file = json.dumps(baseline_to_dict(merge_run(other.load("demo"), make_run(2), config_name="demo")))
    fake_github.before_next("PUT", r"/contents/", lambda fake: fake.put_file(PATH, other_file, branch=BRANCH))

    store.save("demo", make_run(3))

    puts = fake_github.requests_to("PUT", r"/contents/")
    assert len(puts) == 3  # first save, the conflicting write, the write after rereading
    assert stored_commits(fake_github) == [make_run(i).commit for i in (3, 2, 1)]


def test_conflict_every_attempt_raises(fake_github, make_github_client):
    store = make_store(make_github_client, max_attempts=3)
    store.save("demo", make_run(1))
    fake_github.fail_next("PUT", r"/contents/", 409, times=3, body={"message": "is at 1234 but expected 5678"})

    with pytest.raises(BaselineError, match=r"saving baseline demo .* failed: the file changed before each of 3 writes"):
        store.save("demo", make_run(2))

    assert stored_commits(fake_github) == [make_run(1).commit]


def test_invalid_json_on_branch_raises(fake_github, make_github_client):
    fake_github.put_file(PATH, "{not json", branch=BRANCH)
    store = make_store(make_github_client)

    with pytest.raises(BaselineError, match=r"seedbot-baselines:.seedbot/baselines/demo.json: invalid JSON \(.* at line 1, column \d+\); fix or delete the file on the branch"):
        store.load("demo")


def test_baseline_of_other_config_on_branch_raises(fake_github, make_github_client):
    store = make_store(make_github_client)
    store.save("demo", make_run(1))
    fake_github.put_file(".seedbot/baselines/other.json", fake_github.file_text(PATH, BRANCH), branch=BRANCH)

    with pytest.raises(BaselineError, match=r"contains config_name 'demo', expected 'other'"):
        store.load("other")


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", ""])
def test_unsafe_config_name_raises(make_github_client, name):
    store = make_store(make_github_client)

    with pytest.raises(BaselineError, match="invalid as a baseline file name"):
        store.load(name)


def test_custom_branch_and_directory(fake_github, make_github_client):
    store = GitHubBaselineStore(make_github_client(), branch="bench-data", directory="/baselines/")

    store.save("demo", make_run(1))

    assert fake_github.file_text("baselines/demo.json", "bench-data") is not None


@pytest.mark.parametrize("max_attempts", [0, -1])
def test_max_attempts_must_be_positive(make_github_client, max_attempts):
    with pytest.raises(ValueError, match=f"max_attempts must be at least 1, got {max_attempts}"):
        GitHubBaselineStore(make_github_client(), max_attempts=max_attempts)
