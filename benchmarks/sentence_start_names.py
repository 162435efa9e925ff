"""Names that open a sentence: does the entity guardrail tell them from ordinary words?

A generated "Obama welcomed the decision." names someone the source may never mention, but
its capital is also the sentence's; until 2026-12-02 such a lone first word went unchecked.
The check now asks a dictionary (`feedcraft.text.lexicon`, web2's lower-case entries).

Part A, the dictionary against MIND's own entity annotation (`../shared/data/mind-small`,
2,000 real abstracts with WikiData entities and their offsets): every lone capitalised word
that opens a sentence of an abstract, by whether MIND marks it as a one-word entity. Recall is
the share of marked entities (people, places, organisations...) read as names. MIND marks
few entities (it misses many names), so the unmarked words read as names are printed to read
(not kept in the results file: they are MIND's words).

Part B, the guardrail on the 101 bundled Wikinews articles: each article's lead sentence,
followed by "<Name> welcomed the decision.", where Name is a one-word person or organisation
that MIND marks at a sentence start and the article never mentions; and, as the control, the
lead sentence alone. `--src` runs Part B on other code (e.g. a worktree of the commit before).

    .venv/bin/python benchmarks/sentence_start_names.py [--src /tmp/before/src]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MIND = REPO.parent / "shared" / "data" / "mind-small" / "MINDsmall_train_sample" / "news.tsv.gz"
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "sentence_start_names.json"
# A capitalised word that opens the text or follows a sentence end, then a lower-case word.
_LONE_START = re.compile(r"(?:^|(?<=[.!?]\s)|(?<=[.!?][\"'”’)]\s))([A-Z][a-z]+)(?=\s+[a-z])")
_NAME_TYPES = {"P": "person", "O": "organisation", "G": "place"}


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


def part_a(rows: list[tuple[str, str | None]]) -> dict[str, Any]:
    from feedcraft.text.lexicon import is_ordinary_word

    by_type: dict[str, list[int]] = {}
    unmarked_names: Counter[str] = Counter()
    unmarked = [0, 0]
    missed: Counter[str] = Counter()
    for word, kind in rows:
        name = not is_ordinary_word(word)
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
    return {
        "marked": {k: {"n": n, "read_as_name": r} for k, (n, r) in sorted(by_type.items())},
        "unmarked": {"n": unmarked[0], "read_as_name": unmarked[1]},
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="run Part B on the feedcraft under this path")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    rows = mind_sentence_starts()
    names = sorted({w for w, kind in rows if kind in ("P", "O")})
    from server_start import hardware

    result: dict[str, Any] = {
        "hardware": hardware(),
        "src": str(args.src or REPO / "src"),
        "part_b": part_b(names),
    }
    b = result["part_b"]
    print(f"Part B ({result['src']}): {b['articles']} Wikinews articles x {b['names']} names")
    inv, ctl = b["invented"], b["control_lead_sentence"]
    print(f"  invented name at a sentence start caught: {inv['caught']}/{inv['n']}")
    print(f"  lead sentence alone passes:               {ctl['passed']}/{ctl['n']}")
    if not args.src:
        a = result["part_a"] = part_a(rows)
        print(f"Part A: {len(rows)} lone capitalised sentence starts in MIND abstracts")
        print(f"  {'MIND marks it as':<22}{'n':>6}{'read as a name':>16}")
        for kind, c in a["marked"].items():
            label = _NAME_TYPES.get(kind, f"type {kind}")
            print(f"  {label:<22}{c['n']:>6}{c['read_as_name'] / c['n']:>16.3f}")
        u = a["unmarked"]
        print(f"  {'not marked':<22}{u['n']:>6}{u['read_as_name'] / u['n']:>16.3f}")
        print("  marked, read as words:", ", ".join(w for w, _ in a["marked_read_as_words"]))
        print("  unmarked, read as names:", ", ".join(w for w, _ in a["unmarked_read_as_names"]))
        # the words themselves are MIND's (its licence): printed to read, not kept in the file
        a.pop("marked_read_as_words")
        a.pop("unmarked_read_as_names")
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
