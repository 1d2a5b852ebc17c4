"""The builtin runner on a CUDA device: opt-in, skipped where torch sees no GPU."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import torch

from seedbot.config import Config
from seedbot.progress import SilentProgress
from seedbot.runners.builtin import BuiltinRunner
from seedbot.sweep import run_sweep

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device; torch sees none"),
]


def test_cuda_same_seed_same_scores(make_config: Callable[..., Config], tmp_path: Path) -> None:
    runner = BuiltinRunner()
    runner.prepare(make_config(training={"device": "cuda"}))

    first = runner.run_seed(0, tmp_path / "first", SilentProgress())
    second = runner.run_seed(0, tmp_path / "second", SilentProgress())

    assert first == second


def test_cuda_provenance_names_the_gpu(make_config: Callable[..., Config], tmp_path: Path) -> None:
    result = run_sweep(make_config(training={"device": "cuda"}, seeds=[0, 1]), output_dir=tmp_path)

    assert [card.status for card in result.scorecards] == ["ok", "ok"]
    assert result.provenance["cuda"] == torch.version.cuda
    assert result.provenance["device"] == torch.cuda.get_device_name(0)
