"""Small formatting functions for the PR comment: numbers, durations and escaped user text.

Each function returns Markdown that is safe to place in running text and in a
GitHub-flavoured Markdown table cell, unless its docstring says otherwise.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from typing import Sequence

import numpy as np

MISSING = "—"  # shown where a statistic is not available
SCORE_DECIMALS = 4

# A zero-width joiner after "@" keeps GitHub from turning "@name" into a mention.
_ZERO_WIDTH_JOINER = "\u200d"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# Markdown punctuation that can start emphasis, links, code, strikethrough or a
# table cell boundary; a backslash before any ASCII punctuation is always literal.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]|~#!])")
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters left readable in the hidden marker; everything else is percent-encoded.
_MARKER_UNSAFE = re.compile(r"[^A-Za-z0-9._~+:=@,/-]|-(?=-)|(?<=-)-")


def single_line(text: str) -> str:
    """Replace line breaks, tabs and other control characters with one space."""
    return _CONTROL_CHARACTERS.sub(" ", text)


def _break_mentions(text: str) -> str:
    return text.replace("@", "@" + _ZERO_WIDTH_JOINER)


def escape_text(text: str) -> str:
    """Escape user text so it renders literally: no HTML, no Markdown, no @mentions, one line.

    Safe in running text and in table cells, where `|` must stay escaped.
    Surrounding whitespace is dropped, so the text can sit inside `**` emphasis.
    """
    text = single_line(str(text)).strip()
    text = "".join(_HTML_ENTITIES.get(char, char) for char in text)
    text = _MARKDOWN_SPECIALS.sub(r"\\\1", text)
    return _break_mentions(text)


def code_span(text: str, *, in_table: bool = False) -> str:
    """Wrap user text in a code span that no backtick inside it can close.

    Inside a table cell, GitHub splits cells on `|` even within code spans, so
    pass `in_table=True` there: the pipe is then written as `\\|`, which the
    table parser turns back into `|`. Outside a table that escape would show.
    """
    text = single_line(str(text))
    if not text.strip():
        return "` `"
    if in_table:
        text = text.replace("|", "\\|")
    longest_run = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest_run + 1)
    # CommonMark strips one space from each side of a code span, so pad when the
    # content would otherwise touch the fence with a backtick or lose a space.
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def shorten(text: str, max_chars: int) -> str:
    """Cut `text` to at most `max_chars` characters, ending with "…" when cut."""
    if len(text) <= max_chars:
        return text
    return text[: max(max_chars - 1, 0)] + "…"


def marker_name(name: str) -> str:
    """Percent-encode a name for an HTML comment, so it cannot contain `--`, `>` or spaces.

    The encoding is reversible with `urllib.parse.unquote`, so two names never
    share a marker.
    """
    return _MARKER_UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8")), name)


def safe_url(url: str | None) -> str | None:
    """Return an http(s) URL with the characters that end a Markdown link percent-encoded, else None."""
    if not url:
        return None
    url = url.strip()
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return None
    return urllib.parse.quote(url, safe=":/?#@!$&'*+,;=%~-._")


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_number(value: float | None, *, digits: int = 4) -> str:
    """Format a score with `digits` significant digits, without an exponent for usual scores."""
    if _is_missing(value):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text and 1e-6 <= abs(value) < 1e15:
        decimals = digits - 1 - math.floor(math.log10(abs(value)))
        text = f"{value:.{max(decimals, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return text


def format_score(value: float | None, *, decimals: int = SCORE_DECIMALS) -> str:
    """Format a score, mean or delta with fixed decimals, so a column lines up.

    Values too small or too large for fixed decimals fall back to significant digits.
    """
    if _is_missing(value):
        return MISSING
    if value == 0 or 10**-decimals <= abs(value) < 1e6:
        return f"{value:.{decimals}f}"
    return format_number(value)


def format_signed(value: float | None) -> str:
    """Format a delta with an explicit sign: +0.0120, -0.0210."""
    text = format_score(value)
    return text if text == MISSING or text.startswith("-") else "+" + text


def format_mean_std(mean: float | None, std: float | None) -> str:
    """Format "mean ± σ" with the same decimals on both; σ is left out when it is undefined (fewer than 2 seeds)."""
    if _is_missing(mean):
        return MISSING
    if _is_missing(std):
        return format_score(mean)
    return f"{format_score(mean)} ± {format_score(std)}"


def format_interval(interval: tuple[float, float] | None, *, signed: bool = False) -> str:
    """Format a closed interval as "[low, high]"."""
    if interval is None or any(_is_missing(bound) for bound in interval):
        return MISSING
    low, high = interval
    if signed:
        return f"[{format_signed(low)}, {format_signed(high)}]"
    return f"[{format_score(low)}, {format_score(high)}]"


def format_p_value(p_value: float | None) -> str:
    """Format a p-value with 3 significant digits, or "< 0.001"."""
    if _is_missing(p_value):
        return MISSING
    if p_value < 0.001:
        return "< 0.001"
    return f"{p_value:.3g}"


def format_percent(fraction: float | None, *, digits: int = 0) -> str:
    """Format a fraction in [0, 1] as a percentage: 0.84 -> "84%"."""
    if _is_missing(fraction):
        return MISSING
    return f"{fraction * 100:.{digits}f}%"


def format_level(alpha: float) -> str:
    """Format the confidence level for a test at `alpha`: 0.05 -> "95%"."""
    return f"{(1 - alpha) * 100:.10g}%"


def format_duration(seconds: float | None) -> str:
    """Format a duration: "8.4 s", "2 min 05 s", "1 h 02 min"."""
    if _is_missing(seconds):
        return MISSING
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, remainder = divmod(whole, 3600)
    minutes, secs = divmod(remainder, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s"


def plural(count: int, noun: str) -> str:
    """Format a count with its noun, adding "s" unless the count is 1: "1 run", "3 runs"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def short_sha(commit: str | None) -> str | None:
    """Return the 7-character short form of a commit SHA (other text unchanged)."""
    if commit and re.fullmatch(r"[0-9a-fA-F]{8,64}", commit):
        return commit[:7]
    return commit


QUANTILE_LABELS = ("min", "Q1", "median", "Q3", "max")
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:=()+/-]")


def _mermaid_number(value: float) -> str:
    # Mermaid's xychart parser reads plain decimals only, never an exponent.
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def _axis_range(low: float, high: float) -> tuple[str, str]:
    """Round an axis range outwards to about a tenth of its span: 0.905423..0.92613 -> 0.905..0.927."""
    span = high - low
    decimals = min(max(1 - math.floor(math.log10(span)), 0), 6)
    scale = 10**decimals
    # Rounding the scaled value first keeps 0.89 * 1000 = 889.9999... from flooring to 889.
    rounded_low = math.floor(round(low * scale, 6)) / scale
    rounded_high = math.ceil(round(high * scale, 6)) / scale
    return f"{rounded_low:.{decimals}f}", f"{rounded_high:.{decimals}f}"


def mermaid_quantile_chart(
    metric: str,
    baseline_scores: Sequence[float],
    candidate_scores: Sequence[float],
) -> str | None:
    """Build a Mermaid `xychart-beta` of each arm's five-number summary (min, Q1, median, Q3, max).

    The baseline is drawn as bars and the candidate as a line, because xychart
    draws no legend. Returns None when the candidate has no scores. The metric
    name is reduced to characters that cannot end the chart's quoted strings.
    """
    if not candidate_scores:
        return None
    label = _MERMAID_UNSAFE.sub("_", single_line(metric))[:60] or "score"
    candidate = np.percentile(np.asarray(candidate_scores, dtype=float), [0, 25, 50, 75, 100])
    every_score = list(candidate)
    if baseline_scores:
        baseline = np.percentile(np.asarray(baseline_scores, dtype=float), [0, 25, 50, 75, 100])
        every_score += list(baseline)
        title = f"{label} quantiles: bars baseline (n={len(baseline_scores)}), line candidate (n={len(candidate_scores)})"
    else:
        baseline = None
        title = f"{label} quantiles of the candidate (n={len(candidate_scores)})"

    # Pad the axis so that the lowest bar stays visible and equal scores still get a range.
    low, high = min(every_score), max(every_score)
    padding = (high - low) * 0.1 or max(abs(high) * 0.01, 0.01)
    axis_low, axis_high = _axis_range(low - padding, high + padding)
    lines = [
        "xychart-beta",
        f'    title "{title}"',
        "    x-axis [" + ", ".join(f'"{name}"' for name in QUANTILE_LABELS) + "]",
        f'    y-axis "{label}" {axis_low} --> {axis_high}',
    ]
    if baseline is not None:
        lines.append("    bar [" + ", ".join(_mermaid_number(value) for value in baseline) + "]")
    lines.append("    line [" + ", ".join(_mermaid_number(value) for value in candidate) + "]")
    return "\n".join(lines)
