"""Build the comment's view-model: every number and string the template prints, formatted and escaped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

from seedbot import formatting as fmt
from seedbot.scorecard import Scorecard, SweepResult
from seedbot.verdict import ArmSummary, Comparison, MetricComparison, Verdict

if TYPE_CHECKING:
    from seedbot.baseline import Baseline


ERROR_MAX_CHARS = 300  # one failed seed's error, as listed in the comment

VERDICT_LABELS = {
    Verdict.IMPROVED: ("🟢", "Improved"),
    Verdict.REGRESSED: ("🔴", "Regressed"),
    Verdict.NO_CHANGE: ("⚪", "No change"),
    Verdict.INCONCLUSIVE: ("🟡", "Inconclusive"),
    Verdict.NO_BASELINE: ("🆕", "No baseline"),
}
RULE_LABELS = {
    "welch": "Welch t-test",
    "paired": "paired t-test",
    "band": "k·σ band",
    "mann-whitney": "Mann-Whitney U",
    "prediction-interval": "prediction interval",
}
PROVENANCE_ORDER = ("python", "torch", "transformers", "peft", "numpy", "device", "cuda", "cpu_capability")


@dataclass(frozen=True, kw_only=True)
class ReportContext:
    """Context printed in the comment beyond the statistics; every field is optional."""

    commit: str | None = None  # the swept commit
    base_ref: str | None = None
    head_ref: str | None = None
    run_url: str | None = None  # link to the workflow run
    stale_head: str | None = None  # set when the PR head moved during the sweep: the new head SHA
    gate_comparison: Comparison | None = None  # the verdict under the PR's own decision section, if it differs
    seeds_override: int | None = None
    notes: tuple[str, ...] = ()  # extra lines, e.g. "comment for a fork PR"

# --- the view-model: every field is finished Markdown ---------------------------------


@dataclass(frozen=True, kw_only=True)
class MetricView:
    name: str
    gating: bool
    direction: str  # "↑" when higher is better, "↓" when lower is better
    rule: str
    verdict: str  # emoji and word
    reason: str
    baseline: str  # "mean ± σ"
    baseline_iqm: str
    baseline_n: str
    candidate: str
    candidate_iqm: str
    candidate_n: str
    band: str
    delta: str
    ci: str
    p_value: str  # with the Holm-adjusted value in brackets when it differs
    mde: str
    seeds_needed: str
    prob_superiority: str


@dataclass(frozen=True, kw_only=True)
class SeedRow:
    seed: str
    values: tuple[str, ...]  # one per seed column, in the view's column order
    status: str
    duration: str


@dataclass(frozen=True, kw_only=True)
class FailedSeed:
    seed: str
    error: str


@dataclass(frozen=True, kw_only=True)
class ProvenanceRow:
    key: str
    baseline: str
    candidate: str
    changed: bool


@dataclass(frozen=True, kw_only=True)
class GateView:
    """The verdict under the decision section the PR itself proposes."""

    verdict: str
    reason: str
    metrics: tuple[MetricView, ...]


@dataclass(frozen=True, kw_only=True)
class CommentView:
    marker: str
    config_name: str
    verdict: str  # emoji and word
    verdict_value: str  # the enum value, e.g. "regressed"
    reason: str
    commit: str | None
    base_ref: str | None
    head_ref: str | None
    run_url: str | None
    level: str  # confidence level of the intervals, e.g. "95%"
    decision: str
    metrics: tuple[MetricView, ...]
    chart: str | None
    seed_columns: tuple[str, ...]
    seed_rows: tuple[SeedRow, ...]
    seed_rows_cut: int  # rows left out to stay under the length limit
    seeds_total: int
    seeds_ok: int
    failed: tuple[FailedSeed, ...]
    failed_count: int
    failed_errors_cut: bool
    notes: tuple[str, ...]
    gate: GateView | None
    baseline_summary: str | None
    provenance: tuple[ProvenanceRow, ...]
    cut_note: str | None


@dataclass(frozen=True)
class _Detail:
    """How much per-seed detail a rendering keeps."""

    failed_errors: bool = True
    seed_rows: int | None = None  # None keeps every row


def comment_marker(config_name: str) -> str:
    """Return the hidden HTML marker that identifies a config's comment."""
    return f"<!-- seedbot:config={fmt.marker_name(config_name)} -->"


def _verdict_label(verdict: Verdict) -> str:
    emoji, word = VERDICT_LABELS[verdict]
    return f"{emoji} {word}"


def _arm_cells(arm: ArmSummary | None) -> tuple[str, str, str]:
    if arm is None:
        return fmt.MISSING, fmt.MISSING, fmt.MISSING
    n = f"{arm.n}" if not arm.n_failed else f"{arm.n} (+{arm.n_failed} failed)"
    return fmt.format_mean_std(arm.mean, arm.std), fmt.format_score(arm.iqm), n


def _p_value_cell(metric: MetricComparison) -> str:
    text = fmt.format_p_value(metric.p_value)
    adjusted = metric.p_adjusted
    if adjusted is not None and metric.p_value is not None and fmt.format_p_value(adjusted) != text:
        text += f" (Holm {fmt.format_p_value(adjusted)})"
    return text


def _metric_view(metric: MetricComparison) -> MetricView:
    baseline, baseline_iqm, baseline_n = _arm_cells(metric.baseline)
    candidate, candidate_iqm, candidate_n = _arm_cells(metric.candidate)
    mde = fmt.MISSING if metric.mde is None else "±" + fmt.format_number(metric.mde, digits=2)
    return MetricView(
        name=fmt.escape_text(metric.metric),
        gating=metric.gating,
        direction="↑" if metric.direction == "higher" else "↓",
        rule=fmt.escape_text(RULE_LABELS.get(metric.rule, metric.rule)),
        verdict=_verdict_label(metric.verdict),
        reason=fmt.escape_text(metric.reason),
        baseline=baseline,
        baseline_iqm=baseline_iqm,
        baseline_n=baseline_n,
        candidate=candidate,
        candidate_iqm=candidate_iqm,
        candidate_n=candidate_n,
        band=fmt.format_interval(metric.band),
        delta=fmt.format_signed(metric.delta),
        ci=fmt.format_interval(metric.ci, signed=True),
        p_value=_p_value_cell(metric),
        mde=mde,
        seeds_needed=fmt.MISSING if metric.seeds_needed is None else f"{metric.seeds_needed} per arm",
        prob_superiority=fmt.format_percent(metric.prob_superiority),
    )


def _seed_columns(comparison: Comparison, scorecards: Sequence[Scorecard]) -> tuple[str, ...]:
    columns = [metric.metric for metric in comparison.metrics]
    extra = {name for card in scorecards for name in card.metrics} - set(columns)
    return tuple(columns + sorted(extra))


def _seed_row(card: Scorecard, columns: Sequence[str]) -> SeedRow:
    values = tuple(fmt.format_score(card.metrics.get(name)) for name in columns)
    status = "✅ ok" if card.status == "ok" else "❌ failed"
    return SeedRow(seed=str(card.seed), values=values, status=status, duration=fmt.format_duration(card.duration_s))


def _diverged_notes(comparison: Comparison) -> list[str]:
    """List, per metric, the seeds flagged as diverged in each arm, and whether the statistics kept them."""
    notes = []
    for metric in comparison.metrics:
        arms = [("candidate", metric.candidate), ("baseline", metric.baseline)]
        parts = []
        for arm_name, arm in arms:
            if arm is None or not arm.diverged:
                continue
            scores = dict(zip(arm.seeds, arm.scores))
            listed = ", ".join(f"{seed} ({fmt.format_score(scores.get(seed))})" for seed in arm.diverged)
            parts.append(f"{arm_name} seeds {listed}")
        if not parts:
            continue
        setting = fmt.code_span("decision.exclude_diverged")
        handling = (f"excluded from the statistics ({setting})" if comparison.decision.exclude_diverged
                    else f"kept in the statistics; set {setting} to leave them out")
        notes.append(f"⚠️ {fmt.escape_text(metric.metric)}: diverged {'; '.join(parts)}: {handling}.")
    return notes


def _chart(comparison: Comparison) -> str | None:
    if not comparison.metrics:
        return None
    # The first gating metric, else the first metric.
    charted = (comparison.gating or comparison.metrics)[0]
    baseline_scores = charted.baseline.scores if charted.baseline is not None else ()
    return fmt.mermaid_quantile_chart(charted.metric, baseline_scores, charted.candidate.scores)


def _decision_line(comparison: Comparison) -> str:
    decision = comparison.decision
    parts = [
        f"rule {fmt.escape_text(decision.rule)}",
        f"α = {fmt.format_number(decision.alpha)}",
        f"margin {fmt.format_number(decision.min_effect)}",
        f"band k = {fmt.format_number(decision.band_k)}",
        f"min seeds {decision.min_seeds}",
    ]
    return ", ".join(parts)


def _notes(comparison: Comparison, sweep: SweepResult, context: ReportContext) -> tuple[str, ...]:
    notes = []
    if comparison.environment_changes:
        changes = "; ".join(fmt.escape_text(change) for change in comparison.environment_changes)
        notes.append(f"⚠️ Environment changed since the baseline: {changes}.")
    if sweep.stop_reason:
        notes.append(f"Adaptive seed count: {fmt.escape_text(sweep.stop_reason)}")
    if context.stale_head:
        swept = fmt.short_sha(context.commit or sweep.commit) or "an older commit"
        notes.append(
            f"⚠️ The PR head moved to {fmt.code_span(fmt.short_sha(context.stale_head))} during the sweep: "
            f"this result is for {fmt.code_span(swept)}."
        )
    if context.seeds_override is not None:
        notes.append(f"Seed count overridden to {context.seeds_override} for this run.")
    notes.extend(fmt.escape_text(note) for note in comparison.notes)
    notes.extend(_diverged_notes(comparison))
    for metric in comparison.metrics:
        notes.extend(f"{fmt.escape_text(metric.metric)}: {fmt.escape_text(note)}" for note in metric.notes)
    notes.extend(fmt.escape_text(note) for note in context.notes)
    return tuple(notes)


def _provenance_rows(sweep: SweepResult, baseline: "Baseline | None") -> tuple[ProvenanceRow, ...]:
    latest = baseline.latest if baseline is not None else None
    baseline_values: dict[str, str | None] = dict(latest.provenance) if latest is not None else {}
    candidate_values: dict[str, str | None] = dict(sweep.provenance)
    keys = [key for key in PROVENANCE_ORDER if key in baseline_values or key in candidate_values]
    keys += sorted((set(baseline_values) | set(candidate_values)) - set(keys))
    if latest is not None:
        baseline_values.update(commit=latest.commit, config_hash=latest.config_hash, dataset_hash=latest.dataset_hash)
    candidate_values.update(commit=sweep.commit, config_hash=sweep.config_hash, dataset_hash=sweep.dataset_hash)
    keys += ["config_hash", "dataset_hash", "commit"]

    def cell(values: Mapping[str, str | None], key: str) -> str:
        value = values.get(key)
        if value is None:
            return fmt.MISSING
        if key.endswith("_hash"):
            value = value[:12]
        elif key == "commit":
            value = fmt.short_sha(value)
        return fmt.code_span(value, in_table=True)

    return tuple(
        ProvenanceRow(
            key=fmt.escape_text(key),
            baseline=cell(baseline_values, key) if latest is not None else fmt.MISSING,
            candidate=cell(candidate_values, key),
            changed=latest is not None and key != "commit" and baseline_values.get(key) != candidate_values.get(key),
        )
        for key in keys
    )


def _baseline_summary(baseline: "Baseline | None") -> str | None:
    if baseline is None:
        return None
    runs = len(baseline.pool)
    seeds = sum(len(run.scorecards) for run in baseline.pool)
    latest = baseline.latest
    saved = f", latest from {fmt.code_span(fmt.short_sha(latest.commit))}" if latest.commit else ""
    return f"{fmt.plural(runs, 'run')} with {fmt.plural(seeds, 'seed')} in the pool{saved}, saved {fmt.escape_text(latest.created_at)}"


def build_view(
    comparison: Comparison,
    sweep: SweepResult,
    *,
    context: ReportContext = ReportContext(),
    baseline: "Baseline | None" = None,
    detail: _Detail = _Detail(),
    cut_note: str | None = None,
) -> CommentView:
    """Prepare every string the template prints, escaped and formatted."""
    columns = _seed_columns(comparison, sweep.scorecards)
    rows = tuple(_seed_row(card, columns) for card in sweep.scorecards)
    kept_rows = rows if detail.seed_rows is None else rows[: detail.seed_rows]
    failed = tuple(
        FailedSeed(seed=str(card.seed), error=fmt.code_span(fmt.shorten(card.error or "no error recorded", ERROR_MAX_CHARS)))
        for card in sweep.failed
    )
    commit = context.commit or sweep.commit
    gate = context.gate_comparison
    return CommentView(
        marker=comment_marker(comparison.config_name),
        config_name=fmt.code_span(comparison.config_name),
        verdict=_verdict_label(comparison.verdict),
        verdict_value=comparison.verdict.value,
        reason=fmt.escape_text(comparison.reason),
        commit=fmt.code_span(fmt.short_sha(commit)) if commit else None,
        base_ref=fmt.code_span(context.base_ref) if context.base_ref else None,
        head_ref=fmt.code_span(context.head_ref) if context.head_ref else None,
        run_url=fmt.safe_url(context.run_url),
        level=fmt.format_level(comparison.decision.alpha),
        decision=_decision_line(comparison),
        metrics=tuple(_metric_view(metric) for metric in comparison.metrics),
        chart=_chart(comparison),
        seed_columns=tuple(fmt.escape_text(name) for name in columns),
        seed_rows=kept_rows,
        seed_rows_cut=len(rows) - len(kept_rows),
        seeds_total=len(sweep.scorecards),
        seeds_ok=len(sweep.ok),
        failed=failed if detail.failed_errors else (),
        failed_count=len(failed),
        failed_errors_cut=bool(failed) and not detail.failed_errors,
        notes=_notes(comparison, sweep, context),
        gate=(
            GateView(
                verdict=_verdict_label(gate.verdict),
                reason=fmt.escape_text(gate.reason),
                metrics=tuple(_metric_view(metric) for metric in gate.gating),
            )
            if gate is not None
            else None
        ),
        baseline_summary=_baseline_summary(baseline),
        provenance=_provenance_rows(sweep, baseline),
        cut_note=cut_note,
    )
