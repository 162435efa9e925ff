"""Names that open a sentence: does the entity guardrail tell them from ordinary words?

A generated "Obama welcomed the decision." names someone the source may never mention, but
its capital is also the sentence's; until 2026-12-02 such a lone first word went unchecked.
The check now asks a dictionary (`feedcraft.text.lexicon`, web2's lower-case entries).

Part A, the dictionary (and `may_be_name`, below) against MIND's own entity annotation
(`../shared/data/mind-small`, 2,000 real abstracts with WikiData entities and their offsets):
every lone capitalised word that opens a sentence of an abstract, by whether MIND marks it as a
one-word entity. Recall is
the share of marked entities (people, places, organisations...) read as names. MIND marks
few entities (it misses many names), so the unmarked words read as names are printed to read
(not kept in the results file: they are MIND's words); so are those of the bundled Wikinews
bodies, a second, unannotated control.

Part B, the guardrail on the 101 bundled Wikinews articles: each article's lead sentence,
followed by "<Name> welcomed the decision.", where Name is a one-word person or organisation
that MIND marks at a sentence start and the article never mentions; and, as the control, the
lead sentence alone. `--src` runs Part B on other code (e.g. a worktree of the commit before).

`lexicon.may_be_name` (2026-12-02) adds census names, places and team nicknames that are also
words ("Smith", "China", "Jets"). Part A reads every start both ways; Parts B and C run the
guardrail with `entities_in` asking either (a copy of the function whose globals rebind
`is_ordinary_word` and `may_be_name`, so both rows mean the same before and after guardrails.py
takes `may_be_name` for a lone sentence start).
Part C, faithful text that must not fail more: MIND titles against their abstracts, and with
`--requests FILE` (written by `generation.py --requests`) each kept model output against its
Wikinews source; the outputs that fail only one way are printed to read, not kept.

    .venv/bin/python benchmarks/sentence_start_names.py [--src /tmp/before/src]
        [--requests /tmp/audit_requests.jsonl]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MIND = REPO.parent / "shared" / "data" / "mind-small" / "MINDsmall_train_sample" / "news.tsv.gz"
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "sentence_start_names.json"
# A capitalised word that opens the text or follows a sentence end, then a lower-case word.
_LONE_START = re.compile(r"(?:^|(?<=[.!?]\s)|(?<=[.!?][\"'”’)]\s))([A-Z][a-z]+)(?=\s+[a-z])")
_NAME_TYPES = {"P": "person", "O": "organisation", "G": "place"}
READERS = ("dictionary", "may_be_name")


@contextmanager
def reader(name: str) -> Iterator[None]:
    """Run the guardrails with `entities_in` asking `name` about a lone sentence start."""
    from feedcraft.llm import guardrails
    from feedcraft.text.lexicon import is_ordinary_word, may_be_name

    original = guardrails.entities_in
    if name == "may_be_name":
        rebound = {"is_ordinary_word": lambda w: not may_be_name(w), "may_be_name": may_be_name}
    else:
        rebound = {
            "is_ordinary_word": is_ordinary_word,
            "may_be_name": lambda w: not is_ordinary_word(w),
        }
    scope = {**original.__globals__, **rebound}
    guardrails.entities_in = types.FunctionType(  # type: ignore[assignment]
        original.__code__, scope, original.__name__, original.__defaults__
    )
    guardrails.entities_in.__kwdefaults__ = original.__kwdefaults__
    try:
        yield
    finally:
        guardrails.entities_in = original


def mind_sentence_starts() -> list[tuple[str, str | None]]:
    """(word, MIND entity type or None) for each lone capitalised sentence start."""
    rows: list[tuple[str, str | None]] = []
    with gzip.open(MIND, "rt", encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            abstract, entities = fields[4], json.loads(fields[7] or "[]")
            marked = {
                offset: entity["Type"]
                for entity in entities
                for form, offset in zip(
                    entity["SurfaceForms"], entity["OccurrenceOffsets"], strict=False
                )
                if " " not in form
            }
            for m in _LONE_START.finditer(abstract):
                rows.append((m.group(1), marked.get(m.start(1))))
    return rows


def lone_starts(jsonl_line: str) -> list[str]:
    """The lone capitalised sentence starts of one bundled Wikinews article's body."""
    return [m.group(1) for m in _LONE_START.finditer(json.loads(jsonl_line)["body"])]


def part_a(rows: list[tuple[str, str | None]], is_name: Callable[[str], bool]) -> dict[str, Any]:
    by_type: dict[str, list[int]] = {}
    unmarked_names: Counter[str] = Counter()
    unmarked = [0, 0]
    missed: Counter[str] = Counter()
    for word, kind in rows:
        name = is_name(word)
        if kind is None:
            unmarked[0] += 1
            unmarked[1] += name
            if name:
                unmarked_names[word] += 1
            continue
        counts = by_type.setdefault(kind, [0, 0])
        counts[0] += 1
        counts[1] += name
        if not name:
            missed[word] += 1
    wikinews = [w for line in WIKINEWS.open(encoding="utf-8") for w in lone_starts(line)]
    return {
        "marked": {k: {"n": n, "read_as_name": r} for k, (n, r) in sorted(by_type.items())},
        "unmarked": {"n": unmarked[0], "read_as_name": unmarked[1]},
        # unannotated: every one read as a name is printed to judge (Wikinews text, CC BY 2.5)
        "wikinews_starts": {"n": len(wikinews), "read_as_name": sum(map(is_name, wikinews))},
        "wikinews_read_as_names": Counter(w for w in wikinews if is_name(w)).most_common(),
        "marked_read_as_words": missed.most_common(),
        "unmarked_read_as_names": unmarked_names.most_common(),
    }


def part_b(names: list[str]) -> dict[str, Any]:
    from feedcraft.llm.guardrails import check_entities
    from feedcraft.llm.sentences import split_sentences

    items = [json.loads(line) for line in WIKINEWS.open(encoding="utf-8")]
    invented = [0, 0]
    control = [0, 0]
    started = time.perf_counter()
    for item in items:
        source = f"{item['title']}. {item['body']}"
        sentences = split_sentences(item["body"])
        if not sentences:  # a body without a sentence (one article is a bare list)
            continue
        lead = sentences[0]
        control[0] += 1
        control[1] += check_entities(lead, source).passed
        lowered = source.lower()
        for name in (n for n in names if n.lower() not in lowered):
            invented[0] += 1
            output = f"{lead} {name} welcomed the decision."
            invented[1] += not check_entities(output, source).passed
    return {
        "articles": len(items),
        "names": len(names),
        "invented": {"n": invented[0], "caught": invented[1]},
        "control_lead_sentence": {"n": control[0], "passed": control[1]},
        "seconds": time.perf_counter() - started,
    }


def mind_titles() -> list[tuple[str, str]]:
    """(title, abstract) of the MIND news with an abstract."""
    with gzip.open(MIND, "rt", encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f]
    return [(r[3], r[4]) for r in rows if r[4].strip()]  # (output, source)


def part_c(requests: Path | None) -> dict[str, Any]:
    """Entity-check failures on faithful text, read each way; what fails one way is printed."""
    from feedcraft.llm import guardrails

    sets: dict[str, list[tuple[str, str]]] = {"mind_title_vs_abstract": mind_titles()}
    if requests is not None:
        items = [json.loads(line) for line in WIKINEWS.open(encoding="utf-8")]
        kept = []
        for line in requests.open(encoding="utf-8"):
            r = json.loads(line)
            item = items[r["request"]]
            kept += [(o, f"{item['title']}\n{item['body']}") for o in r["outputs"]]
        sets["model_outputs"] = kept
    out: dict[str, Any] = {}
    for label, texts in sets.items():
        failed: dict[str, dict[int, str]] = {}
        for name in READERS:
            with reader(name):
                checks = (guardrails.check_entities(o, src) for o, src in texts)
                failed[name] = {i: c.detail for i, c in enumerate(checks) if not c.passed}
        out[label] = {"n": len(texts), **{f"failed_{k}": len(v) for k, v in failed.items()}}
        for i in sorted(failed["may_be_name"].keys() ^ failed["dictionary"].keys()):
            way, detail = (
                ("new", failed["may_be_name"][i])
                if i in failed["may_be_name"]
                else ("gone", failed["dictionary"][i])
            )
            print(f"  C {label} {way}: {detail} | {texts[i][0][:120]!r}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="run Part B on the feedcraft under this path")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--requests", type=Path, help="model outputs (generation.py --requests)")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    rows = mind_sentence_starts()
    names = sorted({w for w, kind in rows if kind in ("P", "O")})
    from server_start import hardware

    result: dict[str, Any] = {"hardware": hardware(), "src": str(args.src or REPO / "src")}
    if args.src:
        result["part_b"] = part_b(names)
        print_part_b(result["src"], result["part_b"])
        return
    from feedcraft.text.lexicon import is_ordinary_word, may_be_name

    is_name = {"dictionary": lambda w: not is_ordinary_word(w), "may_be_name": may_be_name}
    for name in READERS:
        with reader(name):
            b = result.setdefault("part_b", {})[name] = part_b(names)
        print_part_b(name, b)
    print(f"Part A: {len(rows)} lone capitalised sentence starts in MIND abstracts")
    for name in READERS:
        a = result.setdefault("part_a", {})[name] = part_a(rows, is_name[name])
        print(f"  {name}: {'MIND marks it as':<22}{'n':>6}{'read as a name':>16}")
        for kind, c in a["marked"].items():
            label = _NAME_TYPES.get(kind, f"type {kind}")
            print(f"  {label:<34}{c['n']:>6}{c['read_as_name'] / c['n']:>16.3f}")
        u = a["unmarked"]
        print(f"  {'not marked':<34}{u['n']:>6}{u['read_as_name'] / u['n']:>16.3f}")
        w = a["wikinews_starts"]
        print(
            f"  {'Wikinews starts (unannotated)':<34}{w['n']:>6}{w['read_as_name'] / w['n']:>16.3f}"
        )
        print(
            "  Wikinews, read as names:", ", ".join(w for w, _ in a.pop("wikinews_read_as_names"))
        )
        print("  marked, read as words:", ", ".join(w for w, _ in a["marked_read_as_words"]))
        print("  unmarked, read as names:", ", ".join(w for w, _ in a["unmarked_read_as_names"]))
        # the words themselves are MIND's (its licence): printed to read, not kept in the file
        a.pop("marked_read_as_words")
        a.pop("unmarked_read_as_names")
    print("Part C: entity-check failures on faithful text")
    c = result["part_c"] = part_c(args.requests)
    for label, counts in c.items():
        print(f"  {label}: {counts}")
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def print_part_b(label: str, b: dict[str, Any]) -> None:
    print(f"Part B ({label}): {b['articles']} Wikinews articles x {b['names']} names")
    inv, ctl = b["invented"], b["control_lead_sentence"]
    print(f"  invented name at a sentence start caught: {inv['caught']}/{inv['n']}")
    print(f"  lead sentence alone passes:               {ctl['passed']}/{ctl['n']}")


if __name__ == "__main__":
    main()
