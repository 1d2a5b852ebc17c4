"""The same seed on the same machine gives the same scores and adapter, across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from safetensors.torch import load_file

from tests.fixtures.tiny_model import TinyDataset

ROOT = Path(__file__).resolve().parents[1]


def write_tiny_config(directory: Path, model_dir: Path, dataset: TinyDataset) -> Path:
    config = {
        "name": "tiny",
        "model": {"name_or_path": str(model_dir), "num_labels": 2},
        "data": {"train": str(dataset.train), "eval": str(dataset.eval)},
        "lora": {"r": 4, "alpha": 8, "dropout": 0.1, "target_modules": ["query", "value"]},
        "training": {"max_steps": 30, "batch_size": 16, "learning_rate": 0.02, "max_length": 16, "device": "cpu"},
        "seeds": [3, 7],
    }
    path = directory / "seedbot.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def sweep_in_subprocess(config: Path, output_dir: Path) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "seedbot", "sweep", str(config), "--output-dir", str(output_dir), "--quiet"],
        env=environment, capture_output=True, text=True, check=False, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads((output_dir / "results.json").read_text())


def test_same_seeds_across_processes(tmp_path: Path, tiny_model_dir: Path, tiny_dataset: TinyDataset) -> None:
    config = write_tiny_config(tmp_path, tiny_model_dir, tiny_dataset)

    first = sweep_in_subprocess(config, tmp_path / "first")
    second = sweep_in_subprocess(config, tmp_path / "second")

    assert [card["status"] for card in first["scorecards"]] == ["ok", "ok"]
    assert first["scorecards"][0]["metrics"] != first["scorecards"][1]["metrics"]
    for first_card, second_card in zip(first["scorecards"], second["scorecards"]):
        seed = first_card["seed"]
        assert first_card["metrics"] == second_card["metrics"], seed
        first_adapter = load_file(tmp_path / "first" / f"seed-{seed}" / "adapter" / "adapter_model.safetensors")
        second_adapter = load_file(tmp_path / "second" / f"seed-{seed}" / "adapter" / "adapter_model.safetensors")
        assert first_adapter.keys() == second_adapter.keys()
        for name, tensor in first_adapter.items():
            assert tensor.equal(second_adapter[name]), (seed, name)
