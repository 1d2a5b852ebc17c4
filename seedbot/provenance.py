"""Provenance of a score: library versions, device, CPU instruction set.

The verdict uses `differences` to report "environment changed since the
baseline".
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Mapping

# Keys whose change can move scores on its own, so a baseline from another
# value is not comparable without saying so.
SCORE_AFFECTING_KEYS = ("torch", "transformers", "peft", "cuda", "device", "cpu_capability")


def collect(device: str | None = None) -> dict[str, str | None]:
    """Return python, torch, transformers, peft, numpy versions, device name, CUDA version, cpu_capability.

    `device` is the torch device the sweep trains on ("cpu", "cuda", "cuda:1").
    With None (the command runner, whose script picks its own device) the
    first CUDA device is reported when there is one, else the CPU.
    """
    import torch  # here, not at module level: the verdict imports this module and needs no torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    torch_device = torch.device(device)
    on_cuda = torch_device.type == "cuda"
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "peft": _version("peft"),
        "numpy": _version("numpy"),
        "device": torch.cuda.get_device_name(torch_device) if on_cuda else cpu_model(),
        "cuda": torch.version.cuda if on_cuda else None,
        # The instruction set torch's CPU kernels dispatch to: AVX2 and AVX-512
        # kernels round differently, so the same seed can give other bits.
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": str(torch.get_num_threads()),
        "platform": platform.platform(),
    }


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or what the platform module reports."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def differences(baseline: Mapping[str, str | None], candidate: Mapping[str, str | None]) -> list[str]:
    """List "key before -> after" for every score-affecting key whose value differs."""
    changes = []
    for key in SCORE_AFFECTING_KEYS:
        before, after = baseline.get(key), candidate.get(key)
        if before != after:
            changes.append(f"{key} {before or 'unknown'} -> {after or 'unknown'}")
    return changes
