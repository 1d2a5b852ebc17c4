"""Render the PR comment (Markdown, Jinja2) from a Comparison. Pure: no network, no disk
except reading the template.

SKELETON: signatures are the contract; the report work fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seedbot.scorecard import SweepResult
from seedbot.verdict import Comparison

COMMENT_MAX_CHARS = 65536  # GitHub rejects longer issue comments


@dataclass(frozen=True, kw_only=True)
class ReportContext:
    """What the comment says beyond the statistics; every field is optional."""

    commit: str | None = None  # the swept commit
    base_ref: str | None = None
    head_ref: str | None = None
    run_url: str | None = None  # link to the workflow run
    stale_head: str | None = None  # set when the PR head moved during the sweep: the new head SHA
    gate_comparison: Comparison | None = None  # the verdict under the PR's own decision section, if it differs
    seeds_override: int | None = None
    notes: tuple[str, ...] = ()  # extra lines, e.g. "comment for a fork PR"


def comment_marker(config_name: str) -> str:
    """Return the hidden HTML marker that identifies a config's comment."""
    raise NotImplementedError


def render_comment(
    comparison: Comparison,
    sweep: SweepResult,
    *,
    context: ReportContext = ReportContext(),
    template_path: Path | None = None,
    max_chars: int = COMMENT_MAX_CHARS,
) -> str:
    """Render the comment; cut per-seed detail first (and say so) to stay under max_chars."""
    raise NotImplementedError
