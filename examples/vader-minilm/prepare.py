"""Turn the VADER sentiment lexicon into word-polarity train and eval files.

The lexicon ships inside the `vaderSentiment` package as `vader_lexicon.txt`:
one token per line with its mean rating, the standard deviation and the ten
raw ratings (each from -4 to +4), separated by tabs. Every token becomes one
JSONL row `{"text": token, "label": 1 if the mean rating is positive else 0}`.

Rows are dropped when
- the mean rating is 0 (neutral: no polarity to learn),
- fewer than `--min-agreement` of the ten raters (default 7) gave a rating
  with the sign of the mean, because the raters disagree about its polarity,
- the lowercased token repeats an earlier one (`(:o` and `(:O`): the model's
  tokenizer lowercases, so such a pair would put one text in both splits.

The split is stratified by label (scikit-learn's `train_test_split`) with a
fixed `random_state`, so the same lexicon always gives the same files.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Iterable, NamedTuple

from sklearn.model_selection import train_test_split

DEFAULT_OUTPUT_DIR = Path(__file__).resolve().parent / "data"


class LexiconEntry(NamedTuple):
    token: str
    mean: float
    ratings: tuple[int, ...]


def default_lexicon_path() -> Path:
    """Locate `vader_lexicon.txt` inside the installed vaderSentiment package."""
    try:
        path = resources.files("vaderSentiment") / "vader_lexicon.txt"
    except ModuleNotFoundError:
        sys.exit("prepare.py: the vaderSentiment package is not installed; run: pip install -e '.[example]'")
    return Path(str(path))


def read_lexicon(path: Path) -> list[LexiconEntry]:
    """Parse the tab-separated lexicon: token, mean, std, list of raw ratings."""
    entries = []
    # splitlines() also removes the carriage returns of the shipped file's CRLF line endings.
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise ValueError(f"{path}:{line_number}: expected 4 tab-separated fields (token, mean, std, ratings), got {len(fields)}")
        token, mean, _std, ratings = fields
        entries.append(LexiconEntry(token, float(mean), tuple(ast.literal_eval(ratings))))
    return entries


def agreeing_raters(entry: LexiconEntry) -> int:
    """Count the raters whose rating has the same sign as the mean rating."""
    return sum(1 for rating in entry.ratings if rating * entry.mean > 0)


def select_rows(entries: Iterable[LexiconEntry], min_agreement: int) -> tuple[list[dict], Counter]:
    """Label the entries by polarity and drop neutral, ambiguous and case-duplicate ones."""
    rows = []
    dropped: Counter = Counter()
    seen: set[str] = set()
    for entry in entries:
        if entry.mean == 0:
            dropped["neutral"] += 1
        elif agreeing_raters(entry) < min_agreement:
            dropped["ambiguous"] += 1
        elif entry.token.lower() in seen:
            dropped["case duplicate"] += 1
        else:
            seen.add(entry.token.lower())
            rows.append({"text": entry.token, "label": int(entry.mean > 0)})
    return rows, dropped


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")


def negative_share(rows: list[dict]) -> float:
    return sum(1 for row in rows if row["label"] == 0) / len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lexicon", type=Path, default=None, help="lexicon file (default: the one in the vaderSentiment package)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR, help="where train.jsonl and eval.jsonl go (default: %(default)s)")
    parser.add_argument("--eval-fraction", type=float, default=0.2, help="share of rows held out for eval (default: %(default)s)")
    parser.add_argument("--split-seed", type=int, default=0, help="random_state of the stratified split (default: %(default)s)")
    parser.add_argument("--min-agreement", type=int, default=7, help="raters out of 10 that must share the mean's sign (default: %(default)s)")
    args = parser.parse_args(argv)

    lexicon = args.lexicon or default_lexicon_path()
    rows, dropped = select_rows(read_lexicon(lexicon), args.min_agreement)
    labels = [row["label"] for row in rows]
    train, eval_rows = train_test_split(rows, test_size=args.eval_fraction, random_state=args.split_seed, stratify=labels)

    args.output_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.output_dir / "train.jsonl", train)
    write_jsonl(args.output_dir / "eval.jsonl", eval_rows)

    dropped_text = ", ".join(f"{count} {reason}" for reason, count in sorted(dropped.items()))
    print(f"read {lexicon}: kept {len(rows)} tokens, dropped {dropped_text}")
    print(f"wrote {len(train)} train rows and {len(eval_rows)} eval rows to {args.output_dir}")
    print(f"always-negative accuracy on eval: {negative_share(eval_rows):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
