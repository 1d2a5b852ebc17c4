"""What produced a score: library versions, device, CPU instruction set.

SKELETON: `collect` is filled in by the sweep work; `differences` is the
contract the verdict uses to say "environment changed since the baseline".
"""

from __future__ import annotations

from typing import Mapping

# Keys whose change can move scores on its own, so a baseline from another
# value is not comparable without saying so.
SCORE_AFFECTING_KEYS = ("torch", "transformers", "peft", "cuda", "device", "cpu_capability")


def collect(device: str | None = None) -> dict[str, str | None]:
    """Return python, torch, transformers, peft, numpy versions, device name, CUDA version, cpu_capability."""
    raise NotImplementedError


def differences(baseline: Mapping[str, str | None], candidate: Mapping[str, str | None]) -> list[str]:
    """List "key before -> after" for every score-affecting key whose value differs."""
    changes = []
    for key in SCORE_AFFECTING_KEYS:
        before, after = baseline.get(key), candidate.get(key)
        if before != after:
            changes.append(f"{key} {before or 'unknown'} -> {after or 'unknown'}")
    return changes
