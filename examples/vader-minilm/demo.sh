#!/usr/bin/env bash
# The seedbot demo: a baseline sweep and a candidate sweep of LoRA on
# all-MiniLM-L6-v2 for word polarity, then the rendered PR comment.
#
# Run it from anywhere, in an environment with seedbot installed with its
# example extras (pip install -e '.[example]'). It writes only under
# examples/vader-minilm/data/ and examples/vader-minilm/out/ (both gitignored).
# It runs two sweeps of 5 seeds; docs/benchmarks.md gives their time on 2 CPU cores.
#
# The script exits 0 whatever the verdict is, and prints the exit code that
# `seedbot run` returned (0 no regression, 1 regression, 3 inconclusive or no baseline).
# It exits non-zero only when a step fails, with that step's exit code.
set -euo pipefail

example_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir="$example_dir/out"
baseline_dir="$out_dir/baselines"
python="${PYTHON:-python}"

echo "==> 1/4 prepare the train and eval files from the VADER lexicon"
"$python" "$example_dir/prepare.py"

echo
echo "==> 2/4 baseline: sweep .seedbot.yml and save it as the baseline"
# --new-pool: rerunning the demo replaces the stored runs instead of adding the same seeds again.
"$python" -m seedbot baseline save "$example_dir/.seedbot.yml" --sweep --new-pool \
    --output-dir "$out_dir/baseline" --baseline-dir "$baseline_dir"

echo
echo "==> 3/4 candidate: sweep candidate.seedbot.yml and compare it with the baseline"
set +e
"$python" -m seedbot run "$example_dir/candidate.seedbot.yml" \
    --output-dir "$out_dir/candidate" --baseline-dir "$baseline_dir"
verdict_code=$?
set -e
case "$verdict_code" in
    0 | 1 | 3) ;;  # a verdict: no regression, regression, inconclusive or no baseline
    *)
        echo "seedbot run failed with exit code $verdict_code; see the error above" >&2
        exit "$verdict_code"
        ;;
esac

echo
echo "==> 4/4 the rendered comment ($out_dir/candidate/comment.md)"
echo
cat "$out_dir/candidate/comment.md"
echo
echo "seedbot run exited with code $verdict_code (0 no regression, 1 regression, 3 inconclusive or no baseline)"
echo "result: $out_dir/candidate/result.json"
