"""`python -m seedbot` end to end, as subprocesses, with a command runner (no torch training)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from seedbot.baseline import DEFAULT_DIRECTORY
from seedbot.cli import DEFAULT_BASELINE_DIR, _build_parser, main

REPO_ROOT = Path(__file__).resolve().parents[1]

# Writes metrics.json for one seed: accuracy 0.9 + SHIFT plus a fixed per-seed offset.
# Seeds listed in FAIL exit 1; SLEEP seconds of sleep first let a test interrupt it.
TRAIN_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    seed, output_dir, shift = int(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    fail = {int(s) for s in sys.argv[4].split(",") if s} if len(sys.argv) > 4 else set()
    time.sleep(float(sys.argv[5]) if len(sys.argv) > 5 else 0)
    if seed in fail:
        sys.exit("simulated crash of seed %d" % seed)
    accuracy = 0.9 + shift + 0.004 * (((seed * 7919) % 11) - 5) / 5
    metrics = {"accuracy": accuracy, "macro_f1": accuracy - 0.01, "eval_loss": 0.3 - shift}
    (output_dir / "metrics.json").write_text(json.dumps(metrics))
    """
)


@pytest.fixture
def project(tmp_path):
    """A working directory with train.py, data files and a write_config(file, shift=...) helper."""
    (tmp_path / "train.py").write_text(TRAIN_SCRIPT, encoding="utf-8")
    (tmp_path / "train.jsonl").write_text('{"text": "good", "label": 1}\n', encoding="utf-8")
    (tmp_path / "eval.jsonl").write_text('{"text": "bad", "label": 0}\n', encoding="utf-8")
    return tmp_path


def write_config(
    directory: Path, file_name: str = "seedbot.yml", *, shift: float = 0.0, fail: str = "", sleep: float = 0, seeds: str = "5"
) -> Path:
    command = f"python train.py {{seed}} {{output_dir}} {shift} '{fail}' {sleep}"
    text = textwrap.dedent(
        f"""
        name: demo
        model: {{name_or_path: org/unused}}
        data: {{train: train.jsonl, eval: eval.jsonl}}
        runner:
          kind: command
          command: "{command}"
        seeds: {seeds}
        """
    )
    path = directory / file_name
    path.write_text(text, encoding="utf-8")
    return path


def seedbot_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "GITHUB_ACTIONS": "false"}


def seedbot(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seedbot", *args],
        cwd=directory,
        env=seedbot_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# ---------------------------------------------------------------- exit codes


def test_run_exit_codes_end_to_end(project):
    write_config(project, "base.yml")
    write_config(project, "worse.yml", shift=-0.05)
    write_config(project, "better.yml", shift=0.05)

    first = seedbot(project, "run", "base.yml", "--quiet")
    saved = seedbot(project, "baseline", "save", "base.yml", "--sweep", "--quiet")
    worse = seedbot(project, "run", "worse.yml", "--quiet", "--output-dir", "out/worse")
    better = seedbot(project, "run", "better.yml", "--quiet", "--output-dir", "out/better")
    same = seedbot(project, "run", "base.yml", "--quiet", "--output-dir", "out/same")

    assert first.returncode == 3, first.stderr
    assert first.stdout.startswith("demo: no_baseline: ")
    assert saved.returncode == 0, saved.stderr
    assert (project / ".seedbot" / "baselines" / "demo.json").is_file()
    assert worse.returncode == 1, worse.stderr
    assert worse.stdout.startswith("demo: regressed: ")
    assert better.returncode == 0, better.stderr
    assert better.stdout.startswith("demo: improved: ")
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith("demo: no_change: ")


def test_run_writes_comment_and_result(project):
    write_config(project)

    completed = seedbot(project, "run", "seedbot.yml", "--quiet")

    comment_path = project / "out" / "demo" / "comment.md"
    result = json.loads((project / "out" / "demo" / "result.json").read_text(encoding="utf-8"))
    assert f"comment: {Path('out/demo/comment.md')}" in completed.stdout
    assert "<!-- seedbot:config=demo -->" in comment_path.read_text(encoding="utf-8")
    assert result["verdict"] == "no_baseline"
    assert result["exit_code"] == completed.returncode == 3
    assert len(result["sweep"]["scorecards"]) == 5


def test_run_failed_seeds_inconclusive(project):
    write_config(project, "base.yml")
    write_config(project, "flaky.yml", shift=0.05, fail="0,1,2")
    seedbot(project, "baseline", "save", "base.yml", "--sweep", "--quiet")

    completed = seedbot(project, "run", "flaky.yml", "--quiet")

    assert completed.returncode == 3, completed.stderr
    assert completed.stdout.startswith("demo: inconclusive: ")
    assert "simulated crash of seed 0" in (project / "out" / "demo" / "comment.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("shift", "allowed"),
    [(0.0, {3}), (0.05, {3}), (-0.05, {1, 3})],
    ids=["same", "better", "worse"],
)
def test_run_odd_seeds_failed_never_passes(project, shift, allowed):
    write_config(project, "base.yml")
    write_config(project, "odd.yml", shift=shift, fail="1,3")
    seedbot(project, "baseline", "save", "base.yml", "--sweep", "--quiet")

    completed = seedbot(project, "run", "odd.yml", "--quiet")

    result = json.loads((project / "out" / "demo" / "result.json").read_text(encoding="utf-8"))
    assert completed.returncode in allowed, completed.stdout
    assert result["exit_code"] == completed.returncode
    assert [card["status"] for card in result["sweep"]["scorecards"]] == ["ok", "failed", "ok", "failed", "ok"]


@pytest.mark.parametrize(
    ("seeds", "count", "expected"),
    [("5", "3", [0, 1, 2]), ("[10, 20]", "3", [10, 20, 21])],
)
def test_seeds_option_overrides_count(project, seeds, count, expected):
    write_config(project, seeds=seeds)

    completed = seedbot(project, "sweep", "seedbot.yml", "--seeds", count, "--quiet")

    results = json.loads((project / "out" / "demo" / "results.json").read_text(encoding="utf-8"))
    assert completed.returncode == 0, completed.stderr
    assert [card["seed"] for card in results["scorecards"]] == expected
    assert f"demo: {count} of {count} seeds ok" in completed.stdout


def test_sweep_with_failed_seed_exits_3(project):
    write_config(project, fail="4")

    completed = seedbot(project, "sweep", "seedbot.yml", "--quiet")

    assert completed.returncode == 3
    assert "demo: 4 of 5 seeds ok" in completed.stdout


def test_sweep_compare_render_flow(project):
    write_config(project, "base.yml")
    write_config(project, "worse.yml", shift=-0.05)
    seedbot(project, "sweep", "base.yml", "--quiet", "--output-dir", "out/base")
    saved = seedbot(project, "baseline", "save", "out/base", "--config", "base.yml")
    seedbot(project, "sweep", "worse.yml", "--quiet", "--output-dir", "out/worse")

    compared = seedbot(project, "compare", "out/worse/results.json", "--config", "worse.yml")
    rendered = seedbot(project, "render", "out/worse/result.json")

    assert saved.returncode == 0, saved.stderr
    assert "demo: saved 5 ok seeds; 1 run in the pool" in saved.stdout
    assert compared.returncode == 1, compared.stderr
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout == (project / "out" / "worse" / "comment.md").read_text(encoding="utf-8")


def test_render_with_custom_template(project):
    write_config(project)
    seedbot(project, "run", "seedbot.yml", "--quiet")
    template = project / "short.md.j2"
    template.write_text("{{ view.marker }}\nverdict {{ view.verdict_value }}\n", encoding="utf-8")

    completed = seedbot(project, "render", "out/demo/result.json", "--template", str(template), "--output", "short.md")

    assert completed.returncode == 0, completed.stderr
    assert (project / "short.md").read_text(encoding="utf-8") == "<!-- seedbot:config=demo -->\nverdict no_baseline\n"


def test_baseline_show(project):
    write_config(project)
    seedbot(project, "baseline", "save", "seedbot.yml", "--sweep", "--quiet", "--commit", "abc123")

    summary = seedbot(project, "baseline", "show", "demo")
    raw = seedbot(project, "baseline", "show", "demo", "--json")
    missing = seedbot(project, "baseline", "show", "other")

    assert summary.returncode == 0, summary.stderr
    assert "baseline demo: 1 run in the pool, 0 in the history" in summary.stdout
    assert "run 0: abc123" in summary.stdout
    assert "accuracy: 0.9" in summary.stdout
    assert json.loads(raw.stdout)["config_name"] == "demo"
    assert missing.returncode == 3
    assert "seedbot: error: no baseline for config 'other'" in missing.stderr
    assert missing.stderr.count("no baseline") == 1, missing.stderr


def save_from(project: Path, source: str) -> subprocess.CompletedProcess[str]:
    """Save a baseline of seedbot.yml, by `--sweep` or from the results.json of an earlier sweep."""
    if source == "sweep":
        return seedbot(project, "baseline", "save", "seedbot.yml", "--sweep", "--quiet")
    seedbot(project, "sweep", "seedbot.yml", "--quiet")
    return seedbot(project, "baseline", "save", "out/demo", "--config", "seedbot.yml")


@pytest.mark.parametrize("source", ["sweep", "results"])
def test_baseline_save_some_failed_warns(project, source):
    write_config(project, fail="1,3")

    completed = save_from(project, source)

    stored = json.loads((project / ".seedbot" / "baselines" / "demo.json").read_text(encoding="utf-8"))
    assert completed.returncode == 0, completed.stderr
    assert "demo: saved 3 ok seeds (seeds 1, 3 failed: stored, but not compared); 1 run in the pool" in completed.stdout
    assert "failed seeds 1, 3" in completed.stderr
    assert [card["status"] for card in stored["pool"][0]["scorecards"]] == ["ok", "failed", "ok", "failed", "ok"]


@pytest.mark.parametrize(
    ("source", "fail", "min_seeds", "message"),
    [
        ("sweep", "1,2,3", None, r"3 of 5 seeds failed \(seeds 1, 2, 3\), so only 2 succeeded, fewer than decision\.min_seeds = 3; "
         r"fix the failing seeds \(their errors are in out/demo/seed-<n>\.json\) and run the sweep again\n$"),
        ("results", "1,2,3", None, r"3 of 5 seeds failed \(seeds 1, 2, 3\), so only 2 succeeded, fewer than decision\.min_seeds = 3"),
        ("results", "4", 5, r"1 of 5 seeds failed \(seed 4\), so only 4 succeeded, fewer than decision\.min_seeds = 5"),
        ("sweep", "", 6, r"the sweep ran 5 seeds, so only 5 succeeded, fewer than decision\.min_seeds = 6; run a sweep of at least 6 seeds"),
    ],
    ids=["sweep-3-failed", "results-3-failed", "results-min-seeds-5", "sweep-min-seeds-6"],
)
def test_baseline_save_too_few_ok_rejected(project, source, fail, min_seeds, message):
    config = write_config(project, fail=fail)
    if min_seeds is not None:
        with config.open("a", encoding="utf-8") as file:
            file.write(f"decision: {{min_seeds: {min_seeds}}}\n")

    completed = save_from(project, source)

    assert completed.returncode == 3, completed.stderr
    assert completed.stdout == ""
    assert re.search(r"^seedbot: error: baseline demo not saved: " + message, completed.stderr, re.MULTILINE), completed.stderr
    assert not (project / ".seedbot").exists()


def test_baseline_save_without_config_uses_default_min_seeds(project):
    write_config(project, fail="0,1,2")
    seedbot(project, "sweep", "seedbot.yml", "--quiet")

    completed = seedbot(project, "baseline", "save", "out/demo")

    assert completed.returncode == 3, completed.stderr
    assert "decision.min_seeds = 3 (the default; pass --config to use the config's)" in completed.stderr
    assert not (project / ".seedbot").exists()


def test_baseline_save_new_pool(project):
    write_config(project)
    swept = seedbot(project, "sweep", "seedbot.yml", "--quiet")
    assert swept.returncode == 0, swept.stderr
    first = seedbot(project, "baseline", "save", "out/demo/results.json")
    assert first.returncode == 0, first.stderr

    completed = seedbot(project, "baseline", "save", "out/demo/results.json", "--new-pool")

    stored = json.loads((project / ".seedbot" / "baselines" / "demo.json").read_text(encoding="utf-8"))
    assert completed.returncode == 0, completed.stderr
    assert len(stored["pool"]) == 1
    assert len(stored["history"]) == 1


# ---------------------------------------------------------------- invalid input (exit code 2)

BAD_INPUT = [
    # (files to write, config fragments to merge into a valid config, arguments, expected stderr regex)
    ({}, {}, ["run", "missing.yml"], r"seedbot: error: missing\.yml: config file not found"),
    ({"bad.yml": "name: demo\nmodel: [unclosed\n"}, {}, ["run", "bad.yml"], r"seedbot: error: bad\.yml: invalid YAML at line \d+"),
    ({"bad.yml": "name: a\nname: b\n"}, {}, ["run", "bad.yml"], r"seedbot: error: bad\.yml: invalid YAML at line 2, column 1: duplicate key 'name'"),
    ({"bad.yml": "- a\n- b\n"}, {}, ["sweep", "bad.yml"], r"seedbot: error: bad\.yml: the top level must be a mapping"),
    ({}, {"bad.yml": {"lora": {"r": -4}}}, ["run", "bad.yml"], r"^seedbot: error: bad\.yml: lora\.r: must be a positive integer, got -4\n$"),
    ({}, {"bad.yml": {"lora": {"rank": 4}}}, ["run", "bad.yml"], r"^seedbot: error: bad\.yml: lora\.rank: unknown key; did you mean 'r'\?\n$"),
    ({}, {"bad.yml": {"runner": {"command": "train"}}}, ["sweep", "bad.yml"], r"runner\.command: must contain \{seed\}"),
    ({}, {}, ["run", "seedbot.yml", "--seeds", "0"], r"argument --seeds: must be a positive integer, got 0"),
    ({}, {}, ["run", "seedbot.yml", "--quiet", "--verbose"], r"not allowed with argument"),
    ({}, {}, ["compare", "out/results.json"], r"the following arguments are required: --config"),
    ({}, {}, ["baseline", "save", "seedbot.yml"], r"seedbot: error: RESULTS_OR_CONFIG: seedbot\.yml is a config; add --sweep"),
    ({}, {}, ["baseline", "save", "results.json", "--seeds", "3"], r"seedbot: error: --seeds: applies only with --sweep"),
    ({}, {}, ["baseline", "save", "nowhere/results.json"], r"seedbot: error: results file not found: nowhere/results\.json"),
    ({}, {}, ["render", "missing.json"], r"seedbot: error: result file not found: missing\.json"),
    ({"broken.json": "{"}, {}, ["render", "broken.json"], r"seedbot: error: broken\.json: invalid JSON at line 1"),
    ({}, {}, ["frobnicate"], r"invalid choice: 'frobnicate'"),
    # A file where a directory must go fails before any seed runs.
    ({"afile": ""}, {}, ["sweep", "seedbot.yml", "--output-dir", "afile"], r"^seedbot: error: --output-dir: afile exists and is not a directory; pass a directory path, or move the file away\n$"),
    ({"afile": ""}, {}, ["run", "seedbot.yml", "--output-dir", "afile/demo"], r"--output-dir: afile/demo cannot be a directory because afile is a file; pass another path, or move the file away"),
    ({"afile": ""}, {}, ["baseline", "save", "seedbot.yml", "--sweep", "--output-dir", "afile"], r"--output-dir: afile exists and is not a directory"),
    ({"afile": ""}, {}, ["compare", "out", "--config", "seedbot.yml", "--output-dir", "afile"], r"--output-dir: afile exists and is not a directory"),
    ({"out": ""}, {}, ["sweep", "seedbot.yml"], r"--output-dir: out/demo cannot be a directory because out is a file"),
    ({"afile": ""}, {}, ["run", "seedbot.yml", "--baseline-dir", "afile"], r"^seedbot: error: --baseline-dir: afile exists and is not a directory; pass a directory path, or move the file away\n$"),
    ({"afile": ""}, {}, ["baseline", "show", "demo", "--baseline-dir", "afile"], r"--baseline-dir: afile exists and is not a directory"),
    ({"afile": ""}, {}, ["baseline", "save", "seedbot.yml", "--sweep", "--baseline-dir", "afile"], r"--baseline-dir: afile exists and is not a directory"),
    ({"afile": ""}, {}, ["compare", "out", "--config", "seedbot.yml", "--baseline-dir", "afile"], r"--baseline-dir: afile exists and is not a directory"),
    ({"afile": ""}, {}, ["render", "result.json", "--output", "afile/comment.md"], r"--output: cannot write afile/comment\.md because afile is a file; pass another path, or move the file away"),
    ({}, {}, ["render", "result.json", "--output", "."], r"--output: \. is a directory; pass a file path, e\.g\. comment\.md"),
]


@pytest.mark.parametrize(("files", "fragments", "arguments", "message"), BAD_INPUT, ids=[" ".join(row[2]) for row in BAD_INPUT])
def test_bad_input_exits_2(project, files, fragments, arguments, message):
    valid = write_config(project)
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")
    for name, section in fragments.items():
        # A fragment replaces keys of one section of the valid config, so only the bad field fails.
        raw = yaml.safe_load(valid.read_text(encoding="utf-8"))
        for key, value in section.items():
            raw[key] = {**raw.get(key, {}), **value}
        (project / name).write_text(yaml.safe_dump(raw), encoding="utf-8")

    completed = seedbot(project, *arguments)

    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert re.search(message, completed.stderr), completed.stderr
    assert not list(project.glob("**/seed-*")), "a seed ran before the input was rejected"


@pytest.mark.parametrize(
    "arguments",
    [[], ["run"], ["sweep"], ["compare"], ["baseline"], ["baseline", "save"], ["baseline", "show"], ["render"]],
)
def test_help_exits_zero(arguments):
    completed = subprocess.run(
        [sys.executable, "-m", "seedbot", *arguments, "--help"], env=seedbot_env(), capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: seedbot")


def all_parsers(parser: argparse.ArgumentParser, name: str = "seedbot"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, subparser in action.choices.items():
                yield from all_parsers(subparser, f"{name} {command}")


def test_every_option_has_help():
    undocumented = [
        f"{name} {action.dest}"
        for name, parser in all_parsers(_build_parser())
        for action in parser._actions
        if not action.help
    ]

    assert undocumented == []


@pytest.mark.parametrize(
    ("arguments", "mentions_seeds"),
    [
        (["run"], True),
        (["sweep"], True),
        (["baseline", "save"], True),
        (["compare"], False),
        (["baseline", "show"], False),
        (["render"], False),
    ],
)
def test_quiet_help_fits_command(capsys, arguments, mentions_seeds):
    assert main([*arguments, "--help"]) == 0

    help_text = " ".join(capsys.readouterr().out.split())

    assert "--quiet, -q log warnings and errors only" in help_text
    assert ("one line per finished seed" in help_text) is mentions_seeds


def test_help_states_defaults():
    completed = subprocess.run(
        [sys.executable, "-m", "seedbot", "run", "--help"], env=seedbot_env(), capture_output=True, text=True, check=False
    )

    text = " ".join(completed.stdout.split())
    assert "(default: out/<config name>)" in text
    assert "(default: .seedbot/baselines)" in text
    assert "1 regression" in text


# ---------------------------------------------------------------- interrupts and in-process main


def test_interrupt_exits_130(project):
    write_config(project, sleep=60)
    process = subprocess.Popen(
        [sys.executable, "-m", "seedbot", "run", "seedbot.yml", "--quiet"],
        cwd=project,
        env=seedbot_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until the first seed's command is running, then interrupt seedbot alone.
    deadline = time.monotonic() + 60
    while not (project / "out" / "demo" / "seed-0" / "stdout.log").exists():
        assert time.monotonic() < deadline, "the first seed never started"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    assert "seedbot: interrupted" in stderr


def test_main_returns_exit_code_in_process(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    (project / "bad.yml").write_text("name: demo\n", encoding="utf-8")

    code = main(["run", "bad.yml"])

    assert code == 2
    assert capsys.readouterr().err == "seedbot: error: bad.yml: model: is required, with at least name_or_path\n"


def test_main_help_returns_zero(capsys):
    assert main(["--help"]) == 0
    assert "usage: seedbot" in capsys.readouterr().out


def test_default_baseline_dir_matches_store():
    assert DEFAULT_BASELINE_DIR == DEFAULT_DIRECTORY
