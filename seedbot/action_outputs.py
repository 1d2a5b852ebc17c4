"""The files the Actions runner reads after a step: GITHUB_OUTPUT (step outputs) and GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Mapping

from seedbot.log import logger
from seedbot.verdict import Comparison

OUTPUT_NAMES = (
    "verdict",
    "candidate-mean",
    "candidate-std",
    "delta",
    "ci-low",
    "ci-high",
    "p-value",
    "comment-url",
    "result-file",
    "baseline-saved",
)


def write_outputs(path: Path | None, outputs: Mapping[str, str]) -> None:
    """Append step outputs to GITHUB_OUTPUT with the heredoc syntax, which allows any value."""
    if path is None:
        for name, value in outputs.items():
            logger.info("output %s=%s", name, value)
        return
    with path.open("a", encoding="utf-8") as file:
        for name, value in outputs.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            file.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(path: Path | None, markdown: str) -> None:
    """Append Markdown to the job summary (GITHUB_STEP_SUMMARY); without it, log it."""
    if path is None:
        logger.debug("job summary:\n%s", markdown)
        return
    with path.open("a", encoding="utf-8") as file:
        file.write(markdown.rstrip("\n") + "\n\n")


def comparison_outputs(
    comparison: Comparison, *, result_path: Path | None, comment_url: str | None, baseline_saved: bool = False
) -> dict[str, str]:
    """Build the step outputs for one comparison: its verdict, its first gating metric and whether a baseline was saved."""
    gating = comparison.gating[0] if comparison.gating else None
    candidate = gating.candidate if gating else None
    ci = gating.ci if gating and gating.ci else (None, None)
    return {
        "verdict": comparison.verdict.value,
        "candidate-mean": _number(candidate.mean if candidate else None),
        "candidate-std": _number(candidate.std if candidate else None),
        "delta": _number(gating.delta if gating else None),
        "ci-low": _number(ci[0]),
        "ci-high": _number(ci[1]),
        "p-value": _number(gating.p_value if gating else None),
        "comment-url": comment_url or "",
        "result-file": str(result_path) if result_path else "",
        "baseline-saved": "true" if baseline_saved else "false",
    }


def _number(value: float | None) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    return repr(float(value))


