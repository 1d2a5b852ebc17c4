"""Render the PR comment (Markdown, Jinja2) from a Comparison. Pure: no network, no disk
except reading the template.

The view-model, built in `seedbot.report_view`, contains every number and
string already formatted and escaped; the template only places them.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import jinja2
import jinja2.sandbox

from seedbot import formatting as fmt
from seedbot.errors import TemplateError
from seedbot.log import logger
from seedbot.report_view import (
    CommentView,
    ReportContext,
    _Detail,
    build_view,
    comment_marker,
)
from seedbot.scorecard import SweepResult
from seedbot.verdict import Comparison

if TYPE_CHECKING:
    from seedbot.baseline import Baseline

COMMENT_MAX_CHARS = 65536  # GitHub rejects longer issue comments
# GitHub accepts at most 1 MiB of job summary per step, counted in bytes.
SUMMARY_MAX_BYTES = 1024 * 1024
DEFAULT_TEMPLATE = "comment.md.j2"

__all__ = [
    "COMMENT_MAX_CHARS",
    "CommentView",
    "ReportContext",
    "build_view",
    "comment_marker",
    "load_template",
    "render_comment",
    "render_summary",
]


# --- rendering ----------------------------------------------------------------------


def _cut_note(limit: str, elsewhere: str) -> str:
    return f"✂️ Per-seed detail cut to stay under GitHub's {limit} limit; see {elsewhere} for every seed."


def _environment(sandboxed: bool) -> jinja2.Environment:
    options = dict(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML: the view-model escapes user text itself
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment = jinja2.sandbox.SandboxedEnvironment(**options) if sandboxed else jinja2.Environment(**options)
    environment.filters.update(text=fmt.escape_text, code=fmt.code_span)
    return environment


def load_template(template_path: Path | None = None) -> jinja2.Template:
    """Load the packaged comment template, or compile a user's template in a sandbox.

    Raises TemplateError naming the file when a user's template cannot be read
    or compiled, so callers can check it before spending time on a sweep.
    """
    if template_path is None:
        source = importlib.resources.files("seedbot").joinpath("templates", DEFAULT_TEMPLATE).read_text(encoding="utf-8")
        return _environment(sandboxed=False).from_string(source)
    try:
        source = Path(template_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"comment template {template_path}: cannot be read ({error}); fix the path or drop the option") from error
    try:
        return _environment(sandboxed=True).from_string(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"comment template {template_path}, line {error.lineno}: {error.message}; fix the template syntax") from error
    except Exception as error:  # noqa: BLE001 - a user's template must never crash seedbot
        raise TemplateError(
            f"comment template {template_path}: compiling failed ({type(error).__name__}: {error}); fix the template"
        ) from error


def _render(template: jinja2.Template, view: CommentView, template_name: str, *, user_template: bool) -> str:
    try:
        text = template.render(view=view)
    except jinja2.TemplateError as error:
        raise TemplateError(
            f"comment template {template_name}: rendering failed: {error}; "
            "use only the fields of seedbot.report.CommentView under `view`"
        ) from error
    except Exception as error:
        if not user_template:
            raise
        # For example {% include %} or {% import %} (the sandbox has no loader), or a
        # range() past the sandbox's MAX_RANGE (OverflowError).
        raise TemplateError(
            f"comment template {template_name}: rendering failed ({type(error).__name__}: {error}); "
            "fix the template: it cannot include or import other files, and range() allows at most "
            f"{jinja2.sandbox.MAX_RANGE:,} items"
        ) from error
    if view.marker not in text:
        raise TemplateError(
            f"comment template {template_name}: output lacks the hidden marker; "
            "add `{{ view.marker }}` so seedbot can update the comment in place"
        )
    return text


def _render_within(
    comparison: Comparison,
    sweep: SweepResult,
    *,
    context: ReportContext,
    baseline: "Baseline | None",
    template_path: Path | None,
    size: Callable[[str], int],
    limit: int,
    cut_note: str,
) -> str:
    """Render with as much per-seed detail as fits in `limit`; cut failed-seed errors, then seed rows."""
    template = load_template(template_path)
    template_name = str(template_path) if template_path else DEFAULT_TEMPLATE

    def render(detail: _Detail, note: str | None) -> str:
        view = build_view(comparison, sweep, context=context, baseline=baseline, detail=detail, cut_note=note)
        return _render(template, view, template_name, user_template=template_path is not None)

    text = render(_Detail(), None)
    if size(text) <= limit:
        return text

    text = render(_Detail(failed_errors=False), cut_note)
    if size(text) <= limit:
        logger.info("comment for %s: failed-seed errors cut to stay under %d", comparison.config_name, limit)
        return text

    # Binary search for the most seed rows that still fit.
    low, high = 0, len(sweep.scorecards)
    best = render(_Detail(failed_errors=False, seed_rows=0), cut_note)
    while low < high:
        middle = (low + high + 1) // 2
        candidate = render(_Detail(failed_errors=False, seed_rows=middle), cut_note)
        if size(candidate) <= limit:
            low, best = middle, candidate
        else:
            high = middle - 1
    if size(best) <= limit:
        logger.info("comment for %s: kept %d of %d seed rows to stay under %d", comparison.config_name, low, len(sweep.scorecards), limit)
        return best

    # NOTE: the last resort cuts the text itself and can end inside a table or
    # a <details> block; it only runs when notes or metrics alone exceed the limit.
    logger.warning("comment for %s: still over %d without per-seed detail; cutting the text", comparison.config_name, limit)
    marker = comment_marker(comparison.config_name)
    suffix = f"\n\n{cut_note}\n"
    budget = limit - size(suffix) - size(marker) - 1
    head = best
    while size(head) > budget:
        head = head[: len(head) - max(size(head) - budget, 1)]
    if marker not in head:
        head = marker + "\n" + head
    return head + suffix


def render_comment(
    comparison: Comparison,
    sweep: SweepResult,
    *,
    context: ReportContext = ReportContext(),
    template_path: Path | None = None,
    max_chars: int = COMMENT_MAX_CHARS,
    baseline: "Baseline | None" = None,
) -> str:
    """Render the comment; cut per-seed detail first (and say so) to stay under max_chars.

    `baseline` (optional) adds the baseline arm's provenance and pool size.
    """
    return _render_within(
        comparison,
        sweep,
        context=context,
        baseline=baseline,
        template_path=template_path,
        size=len,
        limit=max_chars,
        cut_note=_cut_note(f"{max_chars:,}-character", "the job summary or result.json"),
    )


def render_summary(
    comparison: Comparison,
    sweep: SweepResult,
    *,
    context: ReportContext = ReportContext(),
    baseline: "Baseline | None" = None,
    max_bytes: int = SUMMARY_MAX_BYTES,
) -> str:
    """Render the same report for the Actions job summary, cut to `max_bytes` of UTF-8."""
    return _render_within(
        comparison,
        sweep,
        context=context,
        baseline=baseline,
        template_path=None,
        size=lambda text: len(text.encode("utf-8")),
        limit=max_bytes,
        cut_note=_cut_note(f"{max_bytes:,}-byte job summary", "result.json"),
    )
