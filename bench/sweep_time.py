"""Time the demo's 5-seed sweep and compare it with a plain transformers + peft loop.

Each repetition runs, in fresh processes one after the other:
- `python -m seedbot sweep examples/vader-minilm/.seedbot.yml`: the wall time of
  the whole command (start-up, model load, tokenization and every seed), the
  time of each seed as its scorecard records it, and the peak RSS;
- the reference: one seed of the same fine-tune written as a plain loop over
  transformers + peft, with no seedbot code, timed the same way.

The report gives the median over the repetitions of each number, the ratio of
seedbot's per-seed time to the reference's, and the accuracy next to the
always-negative (majority class) accuracy on the same eval file. Peak RSS is
the `ru_maxrss` of each process, read with `os.wait4`.

    python bench/sweep_time.py --repeat 3 --json-output bench-results.json

A busy machine slows every number, so the report records the load average
before and after, next to the core count, CPU model and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = REPO_ROOT / "examples" / "vader-minilm"
DEFAULT_CONFIG = EXAMPLE_DIR / ".seedbot.yml"
# The target for the demo: five seeds on 2 CPU cores within 4 minutes.
DEFAULT_BUDGET_S = 240.0


# ---------------------------------------------------------------- the reference loop


def resolve_model_path(name_or_path: str) -> str:
    """Turn `package:<package>/<subdir>` into the directory inside the installed package."""
    if not name_or_path.startswith("package:"):
        return name_or_path
    package, _, subdir = name_or_path.removeprefix("package:").partition("/")
    return str(resources.files(package) / subdir)


def run_reference(config_path: Path, seed: int) -> dict[str, Any]:
    """Fine-tune one seed with the config's settings in a plain loop. No seedbot code runs.

    It is the loop a user would write with the Hugging Face libraries: batches
    padded to their longest row, AdamW with a linear schedule, gradient
    clipping at 1.0 (the Trainer's defaults), then accuracy on the eval file.
    """
    import torch
    import yaml
    from peft import LoraConfig, TaskType, get_peft_model
    from sklearn.metrics import accuracy_score
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup, set_seed
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    training, lora = raw["training"], raw["lora"]
    model_path = resolve_model_path(raw["model"]["name_or_path"])

    def read_split(key: str) -> tuple[list[str], list[int]]:
        path = config_path.parent / raw["data"][key]
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return [row["text"] for row in rows], [int(row["label"]) for row in rows]

    start = time.perf_counter()
    set_seed(seed)  # the new classification head is drawn while the model loads
    train_texts, train_labels = read_split("train")
    eval_texts, eval_labels = read_split("eval")
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=raw["model"]["num_labels"])
    load_s = time.perf_counter() - start

    start = time.perf_counter()
    peft_config = LoraConfig(
        task_type=TaskType.SEQ_CLS, r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
        target_modules=list(lora["target_modules"]),
    )
    model = get_peft_model(model, peft_config)
    steps, batch_size, max_length = training["max_steps"], training["batch_size"], training["max_length"]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=float(training["learning_rate"]))
    scheduler = get_linear_schedule_with_warmup(optimizer, 0, steps)
    generator = torch.Generator().manual_seed(seed)

    def encode(texts: list[str]) -> Any:
        return tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")

    model.train()
    step = 0
    while step < steps:
        order = torch.randperm(len(train_texts), generator=generator).tolist()
        for begin in range(0, len(order), batch_size):
            batch = order[begin : begin + batch_size]
            inputs = encode([train_texts[i] for i in batch])
            loss = model(**inputs, labels=torch.tensor([train_labels[i] for i in batch])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            if step == steps:
                break

    model.eval()
    predictions: list[int] = []
    with torch.inference_mode():
        for begin in range(0, len(eval_texts), 128):
            logits = model(**encode(eval_texts[begin : begin + 128])).logits
            predictions.extend(logits.argmax(dim=-1).tolist())
    seed_s = time.perf_counter() - start
    return {"load_s": load_s, "seed_s": seed_s, "accuracy": accuracy_score(eval_labels, predictions), "torch_threads": torch.get_num_threads()}


# ---------------------------------------------------------------- measuring processes


def timed_process(command: list[str]) -> tuple[float, float, str]:
    """Run command and return its wall time in seconds, its peak RSS in MiB and its stdout."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")]))
    start = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as stdout, tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environment, cwd=REPO_ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - start
        exit_code = os.waitstatus_to_exitcode(status)
        process.returncode = exit_code  # wait4 already reaped it, so Popen must not wait again
        stdout.seek(0)
        output = stdout.read()
        stderr.seek(0)
        errors = stderr.read()
    if exit_code != 0:
        sys.stderr.write(errors)
        raise SystemExit(f"sweep_time: {shlex.join(command)} failed with exit code {exit_code}")
    # On Linux ru_maxrss is in KiB.
    return wall_s, usage.ru_maxrss / 1024, output


def measure_seedbot(config_path: Path, seeds: int, output_dir: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "seedbot", "sweep", "--quiet", str(config_path), "--seeds", str(seeds), "--output-dir", str(output_dir)]
    wall_s, peak_mib, _ = timed_process(command)
    results = json.loads((output_dir / "results.json").read_text(encoding="utf-8"))
    cards = results["scorecards"]
    failed = [f"seed {card['seed']}: {card['error']}" for card in cards if card["status"] != "ok"]
    if failed:
        raise SystemExit("sweep_time: the sweep has failed seeds, so its times are not comparable:\n" + "\n".join(failed))
    seed_times = [card["duration_s"] for card in cards]
    return {
        "wall_s": wall_s,
        "seed_s": seed_times,
        "mean_seed_s": statistics.fmean(seed_times),
        "peak_rss_mib": peak_mib,
        "accuracy": [card["metrics"]["accuracy"] for card in cards],
    }


def measure_reference(config_path: Path, seed: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--reference-worker", "--config", str(config_path), "--seed", str(seed)]
    wall_s, peak_mib, output = timed_process(command)
    return {"wall_s": wall_s, "peak_rss_mib": peak_mib, **json.loads(output.strip().splitlines()[-1])}


# ---------------------------------------------------------------- the report


def machine_description() -> dict[str, Any]:
    cpu_model = platform.processor() or "unknown"
    memory_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:
        pass
    import torch

    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def majority_accuracy(config_path: Path) -> float:
    """Accuracy of always predicting the eval file's most common label."""
    import yaml

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    path = config_path.parent / raw["data"]["eval"]
    labels = [json.loads(line)["label"] for line in path.read_text(encoding="utf-8").splitlines()]
    return max(labels.count(label) for label in set(labels)) / len(labels)


def summarize(runs: list[dict[str, Any]], seeds: int, budget_s: float) -> dict[str, Any]:
    def median(key: str, arm: str) -> float:
        return statistics.median(run[arm][key] for run in runs)

    seedbot_seed_s = median("mean_seed_s", "seedbot")
    reference_seed_s = median("seed_s", "reference")
    sweep_wall_s = median("wall_s", "seedbot")
    # What the plain loop would take for the same sweep: one model load, then one seed after another.
    reference_sweep_s = median("wall_s", "reference") + (seeds - 1) * reference_seed_s
    # The same seeds on the same machine give the same scores, so one run's seeds are the sample.
    accuracies = runs[0]["seedbot"]["accuracy"]
    repeatable = all(run["seedbot"]["accuracy"] == accuracies for run in runs)
    return {
        "sweep_wall_s": sweep_wall_s,
        "seedbot_seed_s": seedbot_seed_s,
        "reference_seed_s": reference_seed_s,
        "seed_ratio": seedbot_seed_s / reference_seed_s,
        "reference_sweep_estimate_s": reference_sweep_s,
        "sweep_ratio": sweep_wall_s / reference_sweep_s,
        "seedbot_peak_rss_mib": median("peak_rss_mib", "seedbot"),
        "reference_peak_rss_mib": median("peak_rss_mib", "reference"),
        "seedbot_accuracy_mean": statistics.fmean(accuracies),
        "seedbot_accuracy_stdev": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
        "seedbot_scores_repeatable": repeatable,
        "reference_accuracy": median("accuracy", "reference"),
        "within_budget": sweep_wall_s <= budget_s,
    }


def format_report(report: dict[str, Any]) -> str:
    summary, machine, seeds = report["summary"], report["machine"], report["seeds"]
    repeat = len(report["runs"])
    lines = [
        f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}, {machine['cpu_capability']}), {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, torch {machine['torch']}",
        f"load average (1 min): {report['load_before'][0]:.2f} before, {report['load_after'][0]:.2f} after",
        f"median of {repeat} runs; each run: one {seeds}-seed seedbot sweep, then one reference seed",
        "",
        "| measure | seedbot | plain transformers + peft | ratio |",
        "|:--|--:|--:|--:|",
        f"| time per seed (train + eval) | {summary['seedbot_seed_s']:.1f} s | {summary['reference_seed_s']:.1f} s | {summary['seed_ratio']:.2f} |",
        f"| {seeds}-seed sweep, whole command | {summary['sweep_wall_s']:.1f} s | {summary['reference_sweep_estimate_s']:.1f} s (estimate) | {summary['sweep_ratio']:.2f} |",
        f"| peak RSS | {summary['seedbot_peak_rss_mib']:.0f} MiB | {summary['reference_peak_rss_mib']:.0f} MiB | {summary['seedbot_peak_rss_mib'] / summary['reference_peak_rss_mib']:.2f} |",
        f"| eval accuracy | {summary['seedbot_accuracy_mean']:.4f} ± {summary['seedbot_accuracy_stdev']:.4f} | {summary['reference_accuracy']:.4f} (seed 0) | |",
        "",
        f"always-negative (majority class) accuracy: {report['majority_accuracy']:.4f}",
        f"seedbot accuracy: mean ± sample standard deviation over the {seeds} seeds; "
        f"the same in every run: {'yes' if summary['seedbot_scores_repeatable'] else 'NO'}",
        f"{seeds} seeds within {report['budget_s']:.0f} s: {'yes' if summary['within_budget'] else 'NO'}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config to sweep (default: the example's .seedbot.yml)")
    parser.add_argument("--repeat", type=int, default=3, help="number of repetitions; the report gives their medians (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per sweep (default: %(default)s)")
    parser.add_argument("--budget-s", type=float, default=DEFAULT_BUDGET_S, help="wall time the sweep must fit in, in seconds (default: %(default)s)")
    parser.add_argument("--json-output", type=Path, help="also write every measurement and the summary as JSON")
    parser.add_argument("--reference-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    config_path = args.config.resolve()

    if args.reference_worker:
        print(json.dumps(run_reference(config_path, args.seed)))
        return 0
    if args.repeat < 1 or args.seeds < 1:
        parser.error("--repeat and --seeds must be at least 1")

    if config_path.parent == EXAMPLE_DIR:
        subprocess.run([sys.executable, str(EXAMPLE_DIR / "prepare.py")], check=True, stdout=subprocess.DEVNULL)

    report: dict[str, Any] = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "config": str(config_path),
        "seeds": args.seeds,
        "budget_s": args.budget_s,
        "machine": machine_description(),
        "majority_accuracy": majority_accuracy(config_path),
        "load_before": os.getloadavg(),
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="seedbot-bench-") as scratch:
        for index in range(args.repeat):
            seedbot = measure_seedbot(config_path, args.seeds, Path(scratch) / f"run-{index}")
            reference = measure_reference(config_path, seed=0)
            report["runs"].append({"seedbot": seedbot, "reference": reference})
            print(
                f"run {index + 1}/{args.repeat}: sweep {seedbot['wall_s']:.1f} s ({seedbot['mean_seed_s']:.1f} s per seed), "
                f"reference seed {reference['seed_s']:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    report["load_after"] = os.getloadavg()
    report["summary"] = summarize(report["runs"], args.seeds, args.budget_s)

    print(format_report(report))
    if args.json_output is not None:
        args.json_output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
