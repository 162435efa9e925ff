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
Part C, faithful text that must not fail more: MIND titles against their abstracts, each
Wikinews lead sentence against the rest of its body, and with `--requests FILE` (written by
`generation.py --requests`) each kept model output against its Wikinews source; the texts that
fail only one way are printed to read, not kept.

The case rule (2026-12-03: `lexicon.capitalised_word`, and modern words by
`lexicon.is_ordinary_word`, from Gemma 3's cased vocabulary) is the third reader, "cased"; the
first two are the earlier code ("dictionary": web2 alone; "census": + places, teams and census
names). Every reader replaces `is_ordinary_word` and `may_be_name` in the guardrails module, so
the multi-word-name checks (`_is_name_word`) read each way too.
Held-out: MIND's items are split in two by a hash of the news id; the census and case cut-offs
are chosen together on the first half (`choose_cut_offs`; a case cut-off of 99 is the rule off)
and Part A is reported on the other half.
NeMig (US migration news, English titles and abstracts, no entity marks): the lone starts read
as names each way, and those that change printed to read (counts kept, words not).
Modern words (2026-12-03): every word of wordfreq's English list with a Zipf frequency of 3 or
more that web2 lacks, of 5 letters or more, and how many the cased vocabulary makes ordinary,
with those another language's frequency keeps names (`lexicon._written_lower`; wordfreq's
words, printed and kept). `--readings FILE` writes every distinct start of MIND, Wikinews and
NeMig with the current code's reading, to compare two versions (outside the repository: the
words are the data sets').

    .venv/bin/python benchmarks/sentence_start_names.py [--src /tmp/before/src]
        [--requests /tmp/audit_requests.jsonl] [--readings /tmp/readings.json]
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import re
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MIND = REPO.parent / "shared" / "data" / "mind-small" / "MINDsmall_train_sample" / "news.tsv.gz"
NEMIG = REPO.parent / "shared" / "data" / "nemig" / "en" / "news.tsv.gz"
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "sentence_start_names.json"
# A capitalised word that opens the text or follows a sentence end, then a lower-case word.
_LONE_START = re.compile(r"(?:^|(?<=[.!?]\s)|(?<=[.!?][\"'”’)]\s))([A-Z][a-z]+)(?=\s+[a-z])")
_NAME_TYPES = {"P": "person", "O": "organisation", "G": "place"}
READERS = ("dictionary", "census", "cased")
CENSUS_CUT_OFFS = (-5.0, -5.25, -5.5, -5.75, -6.0, -6.25, -6.5)
CASE_CUT_OFFS = (99.0, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1)
Row = tuple[str, str, str | None]  # news id, word, MIND entity type or None


def readers() -> dict[str, tuple[Callable[[str], bool], Callable[[str], bool]]]:
    """(is_ordinary_word, may_be_name) of each reader: the two earlier rules and the current."""
    from feedcraft.text import lexicon

    web2 = lexicon._in_dictionary

    def census(word: str) -> bool:
        key = lexicon.name_key(word)
        return not web2(word) or (key.isalpha() and lexicon.common_name(key))

    return {
        "dictionary": (web2, lambda w: not web2(w)),
        "census": (web2, census),
        "cased": (lexicon.is_ordinary_word, lexicon.may_be_name),
    }


@contextmanager
def reader(name: str) -> Iterator[None]:
    """Run the guardrails with the `name` reader's `is_ordinary_word` and `may_be_name`."""
    try:  # the entity check moved out of guardrails.py on 2026-12-03
        module = importlib.import_module("feedcraft.llm.entities")
    except ImportError:
        module = importlib.import_module("feedcraft.llm.guardrails")

    original = module.is_ordinary_word, module.may_be_name
    module.is_ordinary_word, module.may_be_name = readers()[name]
    try:
        yield
    finally:
        module.is_ordinary_word, module.may_be_name = original


def mind_sentence_starts() -> list[Row]:
    """(news id, word, MIND entity type or None) for each lone capitalised sentence start."""
    rows: list[Row] = []
    with gzip.open(MIND, "rt", encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            news_id, abstract, entities = fields[0], fields[4], json.loads(fields[7] or "[]")
            marked = {
                offset: entity["Type"]
                for entity in entities
                for form, offset in zip(
                    entity["SurfaceForms"], entity["OccurrenceOffsets"], strict=False
                )
                if " " not in form
            }
            for m in _LONE_START.finditer(abstract):
                rows.append((news_id, m.group(1), marked.get(m.start(1))))
    return rows


def lone_starts(jsonl_line: str) -> list[str]:
    """The lone capitalised sentence starts of one bundled Wikinews article's body."""
    return [m.group(1) for m in _LONE_START.finditer(json.loads(jsonl_line)["body"])]


def first_half(news_id: str) -> bool:
    """The half of MIND's items the cut-offs are chosen on (a stable hash of the id)."""
    return zlib.crc32(news_id.encode()) % 2 == 0


def tally(rows: list[Row], is_name: Callable[[str], bool]) -> dict[str, Any]:
    """Marked starts (all types) and unmarked ones, each with how many read as names."""
    marked = [is_name(w) for _, w, kind in rows if kind is not None]
    unmarked = [is_name(w) for _, w, kind in rows if kind is None]
    return {
        "marked": {"n": len(marked), "read_as_name": sum(marked)},
        "unmarked": {"n": len(unmarked), "read_as_name": sum(unmarked)},
    }


def choose_cut_offs(rows: list[Row]) -> dict[str, Any]:
    """The census and case cut-offs of `may_be_name`, chosen together on the first half of
    MIND's items: most marked starts read as names less unmarked ones read as names; among
    ties, most marked ones (a missed name is an unchecked invention, a false read costs a retry
    only when the source lacks the word), then the stricter cut-offs. Every cell keeps both
    halves' counts (marked read as names, unmarked read as names), so the second half is the
    held-out score of any choice."""
    from feedcraft.text import lexicon

    halves = (
        [r for r in rows if first_half(r[0])],
        [r for r in rows if not first_half(r[0])],
    )

    def is_name(census: float, case: float) -> Callable[[str], bool]:
        def read(w: str) -> bool:
            key = lexicon.name_key(w)
            return not lexicon.is_ordinary_word(w) or (
                key.isalpha()
                and (lexicon.common_name(key, census) or lexicon.capitalised_word(key, case))
            )

        return read

    grid: dict[tuple[float, float], list[int]] = {}
    for census in CENSUS_CUT_OFFS:
        for case in CASE_CUT_OFFS:
            read = is_name(census, case)
            grid[census, case] = [
                sum(read(w) for _, w, kind in half if (kind is None) == unmarked)
                for half in halves
                for unmarked in (False, True)
            ]
    best = max(grid, key=lambda k: (grid[k][0] - grid[k][1], grid[k][0], k))
    return {
        "items": {"first_half": len(halves[0]), "second_half": len(halves[1])},
        "marked": [sum(kind is not None for _, _, kind in half) for half in halves],
        "unmarked": [sum(kind is None for _, _, kind in half) for half in halves],
        "chosen": {"census": best[0], "case": best[1]},
        "grid_first_marked_unmarked_second_marked_unmarked": {
            f"{census},{case}": counts for (census, case), counts in grid.items()
        },
    }


def part_a(rows: list[Row], is_name: Callable[[str], bool]) -> dict[str, Any]:
    by_type: dict[str, list[int]] = {}
    unmarked_names: Counter[str] = Counter()
    unmarked = [0, 0]
    missed: Counter[str] = Counter()
    for _, word, kind in rows:
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
        "halves": {
            "first": tally([r for r in rows if first_half(r[0])], is_name),
            "second": tally([r for r in rows if not first_half(r[0])], is_name),
        },
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


def wikinews_leads() -> list[tuple[str, str]]:
    """(lead sentence, the rest of the body) of each bundled Wikinews article: a lead
    summarises what follows, so its names are mostly there."""
    from feedcraft.llm.sentences import split_sentences

    out = []
    for line in WIKINEWS.open(encoding="utf-8"):
        body = json.loads(line)["body"]
        sentences = split_sentences(body)
        if len(sentences) > 1:
            out.append((sentences[0], body[body.index(sentences[0]) + len(sentences[0]) :]))
    return out


def part_c(requests: Path | None) -> dict[str, Any]:
    """Entity-check failures on faithful text, read each way; what fails only before (census)
    or only now (cased) is printed."""
    from feedcraft.llm import guardrails

    sets: dict[str, list[tuple[str, str]]] = {
        "mind_title_vs_abstract": mind_titles(),
        "wikinews_lead_vs_rest": wikinews_leads(),
    }
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
        before, after = failed["census"], failed["cased"]
        for i in sorted(before.keys() ^ after.keys()):
            way, detail = ("new", after[i]) if i in after else ("gone", before[i])
            print(f"  C {label} {way}: {detail} | {texts[i][0][:120]!r}")
    return out


def nemig_starts() -> list[str]:
    """The lone capitalised sentence starts of NeMig's distinct English titles and abstracts."""
    with gzip.open(NEMIG, "rt", encoding="utf-8") as f:
        texts = {t for line in f for t in line.rstrip("\n").split("\t")[3:5] if t.strip()}
    return [m.group(1) for text in sorted(texts) for m in _LONE_START.finditer(text)]


def part_d() -> dict[str, Any]:
    """NeMig, unmarked: starts read as names each way; what changes is printed to read."""
    starts = nemig_starts()
    read = {
        name: Counter(w for w in starts if is_name(w)) for name, (_, is_name) in readers().items()
    }
    for way, a, b in (("now names", "cased", "census"), ("now words", "census", "cased")):
        changed = read[a] - read[b]
        print(
            f"  D NeMig {way} ({changed.total()}):",
            ", ".join(f"{w} {n}" for w, n in changed.most_common()),
        )
    return {
        "starts": len(starts),
        **{f"read_as_name_{k}": v.total() for k, v in read.items()},
        "newly_names": (read["cased"] - read["census"]).total(),
        "newly_words": (read["census"] - read["cased"]).total(),
    }


def modern_words() -> dict[str, Any]:
    """The words `lexicon._written_lower` reads: how many it makes ordinary, and which the
    other-language test keeps names."""
    from wordfreq import iter_wordlist, zipf_frequency

    from feedcraft.text import lexicon

    entries = lexicon._lower_case_entries()
    candidates = []
    for word in iter_wordlist("en", wordlist="small"):
        if zipf_frequency(word, "en", wordlist="small") < lexicon._MODERN_ZIPF:
            break
        long_enough = len(word) >= lexicon._MODERN_LENGTH and word.isascii() and word.isalpha()
        if long_enough and not any(f in entries for f in lexicon._forms(word)):
            candidates.append(word)
    ordinary = [w for w in candidates if lexicon._written_lower(w)]
    foreign = [
        w
        for w in candidates
        if w not in ordinary
        and w not in lexicon._census_shares()
        and lexicon._foreign_zipf(w) - lexicon._zipf(w) >= lexicon._FOREIGN_MARGIN
        and any(lexicon._lower_case_evidence(f) for f in lexicon._forms(w) if len(f) >= 5)
    ]
    print(f"Modern words: {len(ordinary)} of {len(candidates)} ordinary; kept names, foreign:")
    print("  " + " ".join(foreign))
    return {"candidates": len(candidates), "ordinary": len(ordinary), "foreign": foreign}


def write_readings(path: Path, rows: list[Row]) -> None:
    """Each distinct start with (is_ordinary_word, may_be_name) under the current code."""
    from feedcraft.text.lexicon import is_ordinary_word, may_be_name

    wikinews = [w for line in WIKINEWS.open(encoding="utf-8") for w in lone_starts(line)]
    words = sorted({w for _, w, _ in rows} | set(wikinews) | set(nemig_starts()))
    readings = {w: [is_ordinary_word(w), may_be_name(w)] for w in words}
    path.write_text(json.dumps(readings, indent=0) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="run Part B on the feedcraft under this path")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--requests", type=Path, help="model outputs (generation.py --requests)")
    parser.add_argument("--readings", type=Path, help="write each start's reading here")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    rows = mind_sentence_starts()
    names = sorted({w for _, w, kind in rows if kind in ("P", "O")})
    from server_start import hardware

    result: dict[str, Any] = {"hardware": hardware(), "src": str(args.src or REPO / "src")}
    if args.src:
        result["part_b"] = part_b(names)
        print_part_b(result["src"], result["part_b"])
        return
    from feedcraft.text.lexicon import may_be_name
    from feedcraft.text.tokenize import english_stopwords

    english_stopwords()  # scikit-learn's list: every entity check loads it anyway
    started = time.perf_counter()
    may_be_name("Trump")  # loads web2, the census lists, wordfreq and the cased vocabulary
    result["first_call_seconds"] = time.perf_counter() - started
    print(f"first may_be_name call: {result['first_call_seconds']:.2f} s")
    for name in READERS:
        with reader(name):
            b = result.setdefault("part_b", {})[name] = part_b(names)
        print_part_b(name, b)
    print(f"Part A: {len(rows)} lone capitalised sentence starts in MIND abstracts")
    for name, (_, is_name) in readers().items():
        a = result.setdefault("part_a", {})[name] = part_a(rows, is_name)
        print_part_a(name, a)
    cut = result["cut_offs"] = choose_cut_offs(rows)
    print(f"Cut-offs chosen on the first half of MIND's items: {cut['chosen']}")
    print(f"  starts: marked {cut['marked']}, unmarked {cut['unmarked']} (first, second half)")
    print("  census\\case " + " ".join(f"{c:>11}" for c in CASE_CUT_OFFS))
    cells = cut["grid_first_marked_unmarked_second_marked_unmarked"]
    for census in CENSUS_CUT_OFFS:
        row = (cells[f"{census},{case}"] for case in CASE_CUT_OFFS)
        print(f"  {census:>11} " + " ".join(f"{a}/{b}|{c}/{d}".rjust(11) for a, b, c, d in row))
    print("Part C: entity-check failures on faithful text")
    c = result["part_c"] = part_c(args.requests)
    for label, n in c.items():
        print(f"  {label}: {n}")
    print("Part D: NeMig English titles and abstracts (unmarked)")
    d = result["part_d_nemig"] = part_d()
    print(f"  {d}")
    result["modern_words"] = modern_words()
    if args.readings:
        write_readings(args.readings, rows)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def print_part_a(name: str, a: dict[str, Any]) -> None:
    print(f"  {name}: {'MIND marks it as':<22}{'n':>6}{'read as a name':>16}")
    for kind, c in a["marked"].items():
        label = _NAME_TYPES.get(kind, f"type {kind}")
        print(f"  {label:<34}{c['n']:>6}{c['read_as_name'] / c['n']:>16.3f}")
    u = a["unmarked"]
    print(f"  {'not marked':<34}{u['n']:>6}{u['read_as_name'] / u['n']:>16.3f}")
    w = a["wikinews_starts"]
    print(f"  {'Wikinews starts (unannotated)':<34}{w['n']:>6}{w['read_as_name'] / w['n']:>16.3f}")
    print(f"  halves: {a['halves']}")
    print("  Wikinews, read as names:", ", ".join(w for w, _ in a.pop("wikinews_read_as_names")))
    print("  marked, read as words:", ", ".join(w for w, _ in a["marked_read_as_words"]))
    print("  unmarked, read as names:", ", ".join(w for w, _ in a["unmarked_read_as_names"]))
    # the words themselves are MIND's (its licence): printed to read, not kept in the file
    a.pop("marked_read_as_words")
    a.pop("unmarked_read_as_names")


def print_part_b(label: str, b: dict[str, Any]) -> None:
    print(f"Part B ({label}): {b['articles']} Wikinews articles x {b['names']} names")
    inv, ctl = b["invented"], b["control_lead_sentence"]
    print(f"  invented name at a sentence start caught: {inv['caught']}/{inv['n']}")
    print(f"  lead sentence alone passes:               {ctl['passed']}/{ctl['n']}")


if __name__ == "__main__":
    main()
