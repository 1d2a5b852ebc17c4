"""The PR comment: formatting functions, escaping of user text, the snapshot, the length limit
and user templates (unit tier: no torch).

Set SEEDBOT_UPDATE_SNAPSHOTS=1 to rewrite tests/snapshots/ from the current output.
"""

from __future__ import annotations

import dataclasses
import os
import re
import statistics
import urllib.parse
from pathlib import Path

import pytest

from seedbot import formatting as fmt
from seedbot.baseline import Baseline, BaselineRun
from seedbot.config import DecisionConfig, MetricsConfig
from seedbot.errors import TemplateError
from seedbot.report import (
    COMMENT_MAX_CHARS,
    ReportContext,
    build_view,
    comment_marker,
    load_template,
    render_comment,
    render_summary,
)
from seedbot.scorecard import Scorecard, SweepResult
from seedbot.verdict import ArmSummary, Comparison, MetricComparison, Verdict, compare

markdown_it = pytest.importorskip("markdown_it")

SNAPSHOTS = Path(__file__).parent / "snapshots"
PROVENANCE = {
    "python": "3.12.3",
    "torch": "2.13.0",
    "transformers": "5.1.0",
    "peft": "0.21.0",
    "device": "NVIDIA H100 80GB HBM3",
    "cuda": "12.8",
    "cpu_capability": "AVX512",
}
CANDIDATE = {0: 0.905, 1: 0.912, 2: 0.899, 3: 0.910}
BASELINE = {0: 0.931, 1: 0.936, 2: 0.925, 3: 0.940, 4: 0.929}
# Breaks tables (|, newline), injects HTML (<, >, &), mentions (@), closes code spans
# (backticks) and HTML comments (-->), and carries Markdown syntax.
HOSTILE = "a|b\n<script>alert(1)</script> @octocat ``tick` **bold** [x](javascript:alert(1)) &amp; --> <!-- _i_ \\ end"


def visible(text: str) -> str:
    """Return how escaped user text must read once GitHub renders it."""
    return fmt.single_line(text).strip().replace("@", "@\u200d")


def arm(scores: dict[int, float], n_failed: int = 0) -> ArmSummary:
    values = list(scores.values())
    ordered = sorted(values)
    return ArmSummary(
        seeds=tuple(scores),
        scores=tuple(values),
        n_failed=n_failed,
        mean=statistics.mean(values),
        std=statistics.stdev(values) if len(values) > 1 else float("nan"),
        median=statistics.median(values),
        iqm=statistics.mean(ordered[1:-1]) if len(ordered) > 2 else statistics.mean(ordered),
    )


def make_card(seed: int, accuracy: float | None, *, error: str = "RuntimeError: CUDA out of memory", metric: str = "accuracy") -> Scorecard:
    ok = accuracy is not None
    return Scorecard(
        seed=seed,
        status="ok" if ok else "failed",
        metrics={metric: accuracy, "eval_loss": round(0.3 - accuracy / 10, 4)} if ok else {},
        duration_s=37.25 + seed,
        config_hash="c" * 64,
        dataset_hash="d" * 64,
        provenance=PROVENANCE,
        error=None if ok else error,
    )


def make_sweep(cards=None, *, config_name: str = "sst2-lora", **overrides) -> SweepResult:
    if cards is None:
        cards = tuple(make_card(seed, score) for seed, score in CANDIDATE.items()) + (make_card(4, None),)
    fields = dict(
        config_name=config_name,
        config_hash="c" * 64,
        dataset_hash="d" * 64,
        scorecards=tuple(cards),
        provenance=PROVENANCE,
        commit="0123456789abcdef0123456789abcdef01234567",
    )
    fields.update(overrides)
    return SweepResult(**fields)


def make_metric(**overrides) -> MetricComparison:
    fields = dict(
        metric="accuracy",
        direction="higher",
        gating=True,
        rule="welch",
        candidate=arm(CANDIDATE, n_failed=1),
        baseline=arm(BASELINE),
        verdict=Verdict.REGRESSED,
        reason="accuracy fell by 0.0257 (95% CI -0.0349 to -0.0165, p = 0.0004)",
        band=(0.9233, 0.9411),
        delta=-0.0257,
        ci=(-0.0349, -0.0165),
        p_value=0.0004,
        p_adjusted=0.0008,
        mde=0.0112,
        seeds_needed=None,
        prob_superiority=0.0,
        notes=("the band rule raises false alarms on 7.9% of unchanged PRs at n = 5",),
    )
    fields.update(overrides)
    return MetricComparison(**fields)


def make_comparison(**overrides) -> Comparison:
    loss = make_metric(
        metric="eval_loss",
        direction="lower",
        gating=False,
        candidate=arm({seed: round(0.3 - score / 10, 4) for seed, score in CANDIDATE.items()}, n_failed=1),
        baseline=arm({seed: round(0.3 - score / 10, 4) for seed, score in BASELINE.items()}),
        verdict=Verdict.NO_CHANGE,
        reason="could not rule out ±0.0021",
        band=(0.2058, 0.2077),
        delta=0.0026,
        ci=(-0.0012, 0.0064),
        p_value=0.21,
        p_adjusted=None,
        mde=0.0021,
        seeds_needed=9,
        prob_superiority=0.35,
        notes=(),
    )
    fields = dict(
        config_name="sst2-lora",
        verdict=Verdict.REGRESSED,
        reason="accuracy regressed: the whole 95% interval lies below zero",
        metrics=(make_metric(), loss),
        decision=DecisionConfig(rule="welch", min_effect=0.005),
        environment_changes=("cuda 12.6 -> 12.8",),
        notes=(),
    )
    fields.update(overrides)
    return Comparison(**fields)


def make_baseline() -> Baseline:
    run = BaselineRun(
        commit="f" * 40,
        created_at="2026-01-02T03:04:05Z",
        config_hash="c" * 64,
        dataset_hash="d" * 64,
        provenance={**PROVENANCE, "cuda": "12.6"},
        scorecards=tuple(make_card(seed, score) for seed, score in BASELINE.items()),
    )
    return Baseline(config_name="sst2-lora", pool=(run,))


def test_inconclusive_metric_shows_band_and_delta():
    # Every candidate seed scored the same, so no test ran; the band and delta still show.
    baseline = make_baseline()
    baseline = dataclasses.replace(baseline, pool=(dataclasses.replace(baseline.latest, provenance=PROVENANCE),))
    sweep = make_sweep(tuple(make_card(seed, 0.93) for seed in range(5)))
    comparison = compare(sweep, baseline, metrics=MetricsConfig(compute=("accuracy",), gate=("accuracy",)),
                         decision=DecisionConfig())

    text = render_comment(comparison, sweep, baseline=baseline)

    assert comparison.verdict is Verdict.INCONCLUSIVE
    assert "| **accuracy** ↑ | 0.9322 ± 0.0059 | 0.9320 | 5 | 0.9300 ± 0.0000 | 0.9300 | 5 | [0.9234, 0.9410] |" in text
    assert "| **accuracy** | 🟡 Inconclusive | prediction interval | -0.0022 | — |" in text


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("SEEDBOT_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run with SEEDBOT_UPDATE_SNAPSHOTS=1 to write it"
    assert text == path.read_text(encoding="utf-8")


def parse(markdown: str):
    """Parse like GitHub: CommonMark with tables and raw HTML enabled."""
    return markdown_it.MarkdownIt("commonmark").enable("table").parse(markdown)


def inline_text(token) -> str:
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def table_cells(markdown: str) -> list[str]:
    tokens = parse(markdown)
    return [
        inline_text(tokens[index + 1])
        for index, token in enumerate(tokens)
        if token.type in ("td_open", "th_open")
    ]


def html_fragments(markdown: str) -> list[str]:
    fragments = []
    for token in parse(markdown):
        if token.type == "html_block":
            fragments += token.content.strip().splitlines()
        for child in token.children or ():
            if child.type == "html_inline":
                fragments.append(child.content)
    return fragments


def text_outside_code(markdown: str) -> str:
    return "\n".join(
        child.content
        for token in parse(markdown)
        for child in (token.children or ())
        if child.type == "text"
    )


# --- formatting functions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.9, "0.9000"), (0.93456, "0.9346"), (-0.0249, "-0.0249"), (0, "0.0000"), (None, "—"), (float("nan"), "—"),
     (2.5e-05, "0.000025"), (12345.678, "12345.6780"), (3e9, "3000000000")],
)
def test_format_score(value, expected):
    assert fmt.format_score(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0123, "+0.0123"), (-0.021, "-0.0210"), (0.0, "+0.0000"), (None, "—")],
)
def test_format_signed(value, expected):
    assert fmt.format_signed(value) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(0.05, 4, "0.05"), (1.5, 4, "1.5"), (0.011234, 2, "0.011"), (0, 4, "0"), (float("inf"), 4, "∞"), (None, 4, "—")],
)
def test_format_number(value, digits, expected):
    assert fmt.format_number(value, digits=digits) == expected


@pytest.mark.parametrize(
    ("mean", "std", "expected"),
    [(0.9322, 0.00589, "0.9322 ± 0.0059"), (0.2050, 0.005, "0.2050 ± 0.0050"), (0.9017, 0.01, "0.9017 ± 0.0100"),
     (0.9, float("nan"), "0.9000"), (None, 0.1, "—")],
)
def test_format_mean_std(mean, std, expected):
    assert fmt.format_mean_std(mean, std) == expected


@pytest.mark.parametrize(
    ("interval", "signed", "expected"),
    [((0.92, 0.94), False, "[0.9200, 0.9400]"), ((-0.03, 0.01), True, "[-0.0300, +0.0100]"),
     (None, False, "—"), ((float("nan"), 1.0), False, "—")],
)
def test_format_interval(interval, signed, expected):
    assert fmt.format_interval(interval, signed=signed) == expected


@pytest.mark.parametrize(
    ("p_value", "expected"),
    [(0.0004, "< 0.001"), (0.001, "0.001"), (0.0294, "0.0294"), (0.5, "0.5"), (1.0, "1"), (None, "—")],
)
def test_format_p_value(p_value, expected):
    assert fmt.format_p_value(p_value) == expected


@pytest.mark.parametrize(
    ("alpha", "expected"), [(0.05, "95%"), (0.01, "99%"), (0.1, "90%"), (0.025, "97.5%")]
)
def test_format_level(alpha, expected):
    assert fmt.format_level(alpha) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(8.44, "8.4 s"), (59.94, "59.9 s"), (125, "2 min 05 s"), (3725, "1 h 02 min"), (None, "—")],
)
def test_format_duration(seconds, expected):
    assert fmt.format_duration(seconds) == expected


def test_format_percent():
    assert fmt.format_percent(0.845) == "84%"
    assert fmt.format_percent(1.0) == "100%"
    assert fmt.format_percent(None) == "—"


@pytest.mark.parametrize(
    ("commit", "expected"),
    [("0123456789abcdef0123456789abcdef01234567", "0123456"), ("v1.2", "v1.2"), (None, None)],
)
def test_short_sha(commit, expected):
    assert fmt.short_sha(commit) == expected


def test_shorten_marks_cut():
    assert fmt.shorten("abcdef", 4) == "abc…"
    assert fmt.shorten("abc", 4) == "abc"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/o/r/actions/runs/1", "https://github.com/o/r/actions/runs/1"),
        ("https://x.test/a b)(c", "https://x.test/a%20b%29%28c"),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url, expected):
    assert fmt.safe_url(url) == expected


# --- escaping user text --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [HOSTILE, "plain", "x | y | z", "<img src=x onerror=alert(1)>", "@org/team please", "line1\r\nline2\u2028end",
     "`", "``a``", "&lt;not an entity", "\\|", "trailing backslash \\", "  padded  "],
)
def test_escape_text_renders_literally(text):
    escaped = fmt.escape_text(text)
    markdown = f"| head |\n|---|\n| {escaped} |\n\nbefore {escaped} after\n"

    assert "\n" not in escaped
    assert table_cells(markdown) == ["head", visible(text)]
    assert html_fragments(markdown) == []
    assert f"before {visible(text)} after" in text_outside_code(markdown)


@pytest.mark.parametrize("text", [HOSTILE, "a`b", "``", "` leading", "trailing `", "  spaced  ", "a|b", "x\ny"])
def test_code_span_keeps_content(text):
    span = fmt.code_span(text)
    cell_span = fmt.code_span(text, in_table=True)
    codes = [child.content for token in parse(f"see {span}\n") for child in (token.children or ()) if child.type == "code_inline"]

    assert codes == [fmt.single_line(text)]
    assert table_cells(f"| head |\n|---|\n| {cell_span} |\n") == ["head", fmt.single_line(text)]


def test_code_span_of_blank_text():
    assert fmt.code_span("") == "` `"
    assert fmt.code_span("\n") == "` `"


@pytest.mark.parametrize("name", ["sst2-lora", "a-->b", "x>y", "--", "a--!>", "café", "a b", "100%", "-"])
def test_marker_name_cannot_close_comment(name):
    encoded = fmt.marker_name(name)

    assert "--" not in encoded
    assert ">" not in encoded
    assert " " not in encoded
    assert urllib.parse.unquote(encoded) == name


def test_marker_name_keeps_plain_names_readable():
    assert comment_marker("sst2-lora_r8.v2") == "<!-- seedbot:config=sst2-lora_r8.v2 -->"


def test_marker_names_differ_for_different_configs():
    names = ["a-b", "a--b", "a%2D%2Db", "a%252D%252Db", "a b", "a%20b"]

    assert len({comment_marker(name) for name in names}) == len(names)


# --- the chart -----------------------------------------------------------------------


def test_chart_has_both_arms():
    chart = fmt.mermaid_quantile_chart("accuracy", [0.9, 0.92, 0.94], [0.8, 0.82, 0.84, 0.86, 0.88])

    assert chart.splitlines() == [
        "xychart-beta",
        '    title "accuracy quantiles: bars baseline (n=3), line candidate (n=5)"',
        '    x-axis ["min", "Q1", "median", "Q3", "max"]',
        '    y-axis "accuracy" 0.78 --> 0.96',
        "    bar [0.9, 0.91, 0.92, 0.93, 0.94]",
        "    line [0.8, 0.82, 0.84, 0.86, 0.88]",
    ]


def test_chart_without_baseline_has_candidate_only():
    chart = fmt.mermaid_quantile_chart("accuracy", [], [0.9, 0.9])

    assert "bar [" not in chart
    assert "    line [0.9, 0.9, 0.9, 0.9, 0.9]" in chart
    assert '    y-axis "accuracy" 0.890 --> 0.910' in chart


def test_chart_axis_is_rounded():
    chart = fmt.mermaid_quantile_chart("accuracy", [0.9075, 0.915], [0.9075, 0.92406])

    # Padded by a tenth of the span: 0.905844 to 0.925716, rounded outwards to 3 decimals.
    assert '    y-axis "accuracy" 0.905 --> 0.926' in chart


def test_chart_without_candidate_scores():
    assert fmt.mermaid_quantile_chart("accuracy", [0.9], []) is None


def test_chart_sanitizes_metric_name():
    chart = fmt.mermaid_quantile_chart('acc"\n```; %% -->', [0.1, 0.2], [0.3, 0.4])

    assert "```" not in chart
    assert "%%" not in chart
    assert ";" not in chart
    assert len(chart.splitlines()) == 6
    assert all(line.count('"') % 2 == 0 for line in chart.splitlines())


def test_chart_writes_no_exponents():
    chart = fmt.mermaid_quantile_chart("loss", [1e-7, 2e-7], [3e-7, 4e-7])

    assert not re.search(r"\de", chart)


# --- the rendered comment ------------------------------------------------------------


def render_full(**context_fields) -> str:
    context = ReportContext(
        base_ref="main",
        head_ref="lora-r16",
        run_url="https://github.com/acme/models/actions/runs/42",
        **context_fields,
    )
    return render_comment(make_comparison(), make_sweep(), context=context, baseline=make_baseline())


def test_comment_snapshot():
    assert_snapshot("comment_regressed.md", render_full())


def test_comment_starts_with_marker():
    text = render_full()

    assert text.startswith(comment_marker("sst2-lora") + "\n")
    assert text.count(comment_marker("sst2-lora")) == 1


def test_comment_html_is_only_ours():
    allowed = {comment_marker("sst2-lora"), "<sub>", "</sub>", "<details>", "<summary>Provenance</summary>", "</details>"}

    assert set(html_fragments(render_full())) <= allowed


@pytest.mark.parametrize("verdict", list(Verdict))
def test_headline_names_every_verdict(verdict):
    text = render_comment(make_comparison(verdict=verdict), make_sweep())
    headline = text.splitlines()[1]

    assert headline.startswith("### ")
    assert headline.endswith(": `sst2-lora`")
    assert verdict.value.replace("_", " ") in headline.lower()


def test_comment_reports_statistics():
    text = render_full()

    assert "| **accuracy** ↑ | 0.9322 ± 0.0059 | 0.9320 | 5 | 0.9065 ± 0.0058 | 0.9075 | 4 (+1 failed) | [0.9233, 0.9411] |" in text
    assert "| **accuracy** | 🔴 Regressed | Welch t-test | -0.0257 | [-0.0349, -0.0165] | < 0.001 | ±0.011 | — | 0% |" in text
    assert "| eval\\_loss | ⚪ No change | Welch t-test | +0.0026 | [-0.0012, +0.0064] | 0.21 | ±0.0021 | 9 per arm | 35% |" in text
    assert "| 95% CI |" in text


def test_holm_value_shown_when_it_differs():
    same = make_comparison(metrics=(make_metric(p_value=0.02, p_adjusted=0.02),))
    different = make_comparison(metrics=(make_metric(p_value=0.02, p_adjusted=0.04),))

    assert "Holm" not in render_comment(same, make_sweep())
    assert "| 0.02 (Holm 0.04) |" in render_comment(different, make_sweep())


def test_comment_lists_failed_seed_with_error():
    assert "- seed 4: `RuntimeError: CUDA out of memory`" in render_full()


def test_comment_seed_table_rows():
    text = render_full()

    assert "| seed | accuracy | eval\\_loss | status | duration |" in text
    assert "| 0 | 0.9050 | 0.2095 | ✅ ok | 37.2 s |" in text
    assert "| 4 | — | — | ❌ failed | 41.2 s |" in text


def test_comment_notes():
    text = render_full(
        stale_head="9" * 40,
        seeds_override=7,
        notes=("fork PR: the token is read-only",),
    )
    notes = text.split("#### Notes", 1)[1].split("####", 1)[0]

    assert "Environment changed since the baseline: cuda 12.6 -&gt; 12.8" in notes
    assert "The PR head moved to `9999999` during the sweep: this result is for `0123456`." in notes
    assert "Seed count overridden to 7 for this run." in notes
    assert "accuracy: the band rule raises false alarms on 7.9% of unchanged PRs at n = 5" in notes
    assert "fork PR: the token is read-only" in notes


def test_comment_adaptive_stop_reason():
    sweep = make_sweep(stop_reason="stopped after 5 seeds: p = 0.004 < 0.0294 (Pocock, 2 looks)")

    assert "- Adaptive seed count: stopped after 5 seeds: p = 0.004 &lt; 0.0294 (Pocock, 2 looks)" in render_comment(make_comparison(), sweep)


def test_comment_gate_comparison_section():
    gate = make_comparison(verdict=Verdict.NO_CHANGE, reason="no gating metric moved beyond ±0.02")

    with_gate = render_full(gate_comparison=gate)
    without_gate = render_full()

    assert "#### Under this PR's own `decision` section" in with_gate
    assert "it would be **⚪ No change**: no gating metric moved beyond ±0.02" in with_gate
    assert "decision` section" not in without_gate


def test_comment_provenance_for_both_arms():
    details = render_full().split("<details>", 1)[1]

    assert "| cuda ⚠️ | `12.6` | `12.8` |" in details
    assert "| torch | `2.13.0` | `2.13.0` |" in details
    assert "| dataset\\_hash | `dddddddddddd` | `dddddddddddd` |" in details
    assert "| commit | `fffffff` | `0123456` |" in details
    assert "Baseline: 1 run with 5 seeds in the pool" in details


def test_comment_without_baseline():
    metric = make_metric(baseline=None, verdict=Verdict.NO_BASELINE, band=None, delta=None, ci=None, p_value=None,
                         p_adjusted=None, mde=None, prob_superiority=None, reason="no baseline stored")
    comparison = make_comparison(verdict=Verdict.NO_BASELINE, metrics=(metric,), environment_changes=())

    text = render_comment(comparison, make_sweep())

    assert "### 🆕 No baseline: `sst2-lora`" in text
    assert "| **accuracy** ↑ | — | — | — | 0.9065 ± 0.0058 |" in text
    assert "bar [" not in text
    assert "line [" in text
    assert "| torch | — | `2.13.0` |" in text


def test_comment_without_metrics():
    comparison = make_comparison(verdict=Verdict.INCONCLUSIVE, metrics=(), reason="every seed failed")
    sweep = make_sweep(cards=[make_card(0, None), make_card(1, None)])

    text = render_comment(comparison, sweep)

    assert "0 of 2 seeds ok" in text
    assert "```mermaid" not in text
    assert "- seed 1: `RuntimeError: CUDA out of memory`" in text


def test_run_link_only_for_http_urls():
    assert "[workflow run](https://github.com/acme/models/actions/runs/42)" in render_full()
    assert "workflow run" not in render_comment(make_comparison(), make_sweep(), context=ReportContext(run_url="javascript:alert(1)"))


# --- hostile user text ---------------------------------------------------------------


def render_hostile() -> str:
    metric = make_metric(metric=HOSTILE, reason=HOSTILE, notes=(HOSTILE,))
    comparison = make_comparison(config_name=HOSTILE, reason=HOSTILE, metrics=(metric,), environment_changes=(HOSTILE,))
    cards = [make_card(0, 0.9, metric=HOSTILE), make_card(1, 0.8, metric=HOSTILE), make_card(2, None, error=HOSTILE)]
    sweep = make_sweep(cards, config_name=HOSTILE, provenance={**PROVENANCE, "device": HOSTILE}, stop_reason=HOSTILE)
    context = ReportContext(base_ref=HOSTILE, head_ref=HOSTILE, notes=(HOSTILE,), gate_comparison=comparison)
    return render_comment(comparison, sweep, context=context)


def test_hostile_text_adds_no_html():
    allowed = {comment_marker(HOSTILE), "<sub>", "</sub>", "<details>", "<summary>Provenance</summary>", "</details>"}

    assert set(html_fragments(render_hostile())) <= allowed


def test_hostile_marker_is_one_comment():
    text = render_hostile()
    first_line = text.splitlines()[0]

    assert first_line == comment_marker(HOSTILE)
    assert first_line.count("-->") == 1
    assert first_line.endswith(" -->")


def test_hostile_text_mentions_nobody():
    assert "@octocat" not in text_outside_code(render_hostile())


def test_hostile_text_keeps_table_cells_whole():
    cells = table_cells(render_hostile())

    # The test table, the gate table and the seed table header show the name alone;
    # the score table adds the direction arrow.
    assert cells.count(visible(HOSTILE)) == 3
    assert cells.count(visible(HOSTILE) + " ↑") == 1
    assert fmt.single_line(HOSTILE) in cells  # the device, in a code span
    assert "✅ ok" in cells
    assert "❌ failed" in cells


def test_hostile_error_stays_in_its_code_span():
    codes = [
        child.content
        for token in parse(render_hostile())
        for child in (token.children or ())
        if child.type == "code_inline"
    ]

    assert fmt.single_line(HOSTILE) in codes


# --- the length limit ----------------------------------------------------------------


def many_seeds(count: int, error_chars: int) -> SweepResult:
    cards = [
        make_card(seed, 0.9 + (seed % 7) / 1000) if seed % 2 else make_card(seed, None, error="ValueError: " + "x" * error_chars)
        for seed in range(count)
    ]
    return make_sweep(cards)


def test_five_thousand_seeds_fit_limit():
    text = render_comment(make_comparison(), many_seeds(5000, 5000))

    assert len(text) <= COMMENT_MAX_CHARS
    assert text.startswith(comment_marker("sst2-lora"))
    assert "Per-seed detail cut to stay under GitHub's 65,536-character limit; see the job summary or result.json" in text
    assert "2500 seeds failed; their errors were cut." in text
    assert "ValueError" not in text
    assert re.search(r"\n(\d+) more seed rows cut\.", text)
    assert "<summary>Provenance</summary>" in text


def test_cut_keeps_as_many_rows_as_fit():
    sweep = many_seeds(400, 10)
    text = render_comment(make_comparison(), sweep, max_chars=15_000)
    kept = len(re.findall(r"^\| \d+ \|", text, flags=re.MULTILINE))
    cut = int(re.search(r"\n(\d+) more seed rows cut\.", text).group(1))

    assert len(text) <= 15_000
    assert kept + cut == 400
    assert kept > 0
    assert f"\n| {kept - 1} |" in text
    assert f"\n| {kept} |" not in text


def test_cut_keeps_more_rows_with_more_room():
    sweep = many_seeds(400, 10)

    small = render_comment(make_comparison(), sweep, max_chars=15_000)
    large = render_comment(make_comparison(), sweep, max_chars=16_000)

    def rows(text):
        return len(re.findall(r"^\| \d+ \|", text, flags=re.MULTILINE))

    assert rows(large) > rows(small)


def test_cut_errors_before_rows():
    sweep = many_seeds(40, 300)
    full = render_comment(make_comparison(), sweep)
    limit = len(full) - 100

    text = render_comment(make_comparison(), sweep, max_chars=limit)

    assert len(text) <= limit
    assert "20 seeds failed; their errors were cut." in text
    assert "more seed rows cut" not in text
    assert "Per-seed detail cut to stay under GitHub's" in text


def test_uncut_comment_says_nothing_about_cuts():
    text = render_full()

    assert "cut" not in text.lower()


def test_last_resort_cut_keeps_marker():
    text = render_comment(make_comparison(), make_sweep(), context=ReportContext(notes=("y" * 100_000,)), max_chars=5_000)

    assert len(text) <= 5_000
    assert text.startswith(comment_marker("sst2-lora"))
    assert text.rstrip().endswith("see the job summary or result.json for every seed.")


def test_summary_fits_byte_limit():
    cards = [make_card(seed, None, error="エラー " * 200) for seed in range(300)]

    text = render_summary(make_comparison(), make_sweep(cards), max_bytes=30_000)

    assert len(text.encode("utf-8")) <= 30_000
    assert "Per-seed detail cut to stay under GitHub's 30,000-byte job summary limit; see result.json" in text


# --- templates -----------------------------------------------------------------------


def write_template(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "comment.md.j2"
    path.write_text(source, encoding="utf-8")
    return path


def test_user_template_renders_view(tmp_path):
    path = write_template(tmp_path, "{{ view.marker }}\n{{ view.verdict }} {{ view.config_name }} {{ view.reason | length }}\n")

    text = render_comment(make_comparison(), make_sweep(), template_path=path)

    reason = make_comparison().reason
    assert text == comment_marker("sst2-lora") + f"\n🔴 Regressed `sst2-lora` {len(reason)}\n"


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("{{ view.verdict }}\n", r"comment\.md\.j2: output lacks the hidden marker; add `\{\{ view\.marker \}\}`"),
        ("{{ view.marker }} {{ view.no_such_field }}\n", r"rendering failed: .*no_such_field"),
        ("{{ view.marker }} {{ view.__class__.__mro__ }}\n", r"rendering failed: .*unsafe"),
        ("{{ view.marker }} {% for %}\n", r"comment\.md\.j2, line 1: .*fix the template syntax"),
        ("{{ view.marker }} {% include '/etc/passwd' %}\n", r"comment\.md\.j2: rendering failed \(TypeError: no loader"),
        ("{{ view.marker }} {% import 'x' as y %}\n", r"comment\.md\.j2: rendering failed \(TypeError: no loader"),
        ("{{ view.marker }} {% for i in range(10**9) %}{% endfor %}\n",
         r"comment\.md\.j2: rendering failed \(OverflowError: .*range\(\) allows at most 100,000 items"),
        ("{{ view.marker }} {{ 1 / 0 }}\n", r"comment\.md\.j2: rendering failed \(ZeroDivisionError"),
    ],
)
def test_user_template_errors(tmp_path, source, match):
    path = write_template(tmp_path, source)

    with pytest.raises(TemplateError, match=match):
        render_comment(make_comparison(), make_sweep(), template_path=path)


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("{{ view.marker }} {% for %}\n", r"comment\.md\.j2, line 1: .*fix the template syntax"),
        ("{{ view.marker }} {% endif %}\n", r"comment\.md\.j2, line 1: .*endif"),
    ],
)
def test_load_template_rejects_syntax_errors(tmp_path, source, match):
    with pytest.raises(TemplateError, match=match):
        load_template(write_template(tmp_path, source))


def test_user_template_missing_file(tmp_path):
    with pytest.raises(TemplateError, match=r"absent\.j2: cannot be read"):
        render_comment(make_comparison(), make_sweep(), template_path=tmp_path / "absent.j2")



def test_diverged_seeds_listed_in_notes():
    candidate = dataclasses.replace(arm(CANDIDATE, n_failed=1), diverged=(1,))
    comparison = make_comparison(metrics=(make_metric(candidate=candidate),))
    body = render_comment(comparison, make_sweep())
    score = fmt.format_score(CANDIDATE[1])
    assert f"accuracy: diverged candidate seeds 1 ({score})" in body
    assert "kept in the statistics; set `decision.exclude_diverged` to leave them out" in body


def test_no_diverged_note_without_diverged_seeds():
    body = render_comment(make_comparison(), make_sweep())
    assert "diverged" not in body
