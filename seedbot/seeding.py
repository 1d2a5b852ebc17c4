"""Seeding: one integer drives every random choice a fine-tune makes.

The seed fixes Python's `random`, NumPy and torch (CPU and every CUDA device),
so it drives the LoRA init, the classification-head init and dropout, and
a separate `torch.Generator` drives the data order. On one machine with the
same libraries, the same seed gives the same scores.
"""

from __future__ import annotations

import os

import torch
import transformers

from seedbot.errors import ConfigError

# cuBLAS needs a fixed workspace to give repeatable results; the value is one
# of the two that PyTorch's reproducibility notes list.
CUBLAS_WORKSPACE = ":4096:8"


def enable_determinism() -> None:
    """Ask torch for deterministic algorithms where the backend has them.

    Call it once before any CUDA work, because cuBLAS reads CUBLAS_WORKSPACE_CONFIG
    when it starts. With `warn_only=True` an op that has no deterministic
    implementation warns instead of raising, so such an op does not fail the sweep.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def seed_everything(seed: int) -> torch.Generator:
    """Seed random, NumPy and torch with `seed`; return a CPU generator for the data order."""
    transformers.set_seed(seed)
    return data_order_generator(seed)


def data_order_generator(seed: int) -> torch.Generator:
    """Return a torch.Generator that only the shuffle uses, so model code cannot shift the data order."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def resolve_device(requested: str) -> torch.device:
    """Turn training.device ("auto", "cpu", "cuda", "cuda:1", ...) into a torch.device."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise ConfigError("training.device", f"invalid device {requested!r}; use auto, cpu, cuda or cuda:<index>") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("training.device", f"{requested!r} requested but torch finds no CUDA device; use auto or cpu")
    return device
