"""Month names and acronyms in the entities check, counted on faithful text.

The guardrails' entities check (`check_entities`) failed "November 18" against "Nov. 18" (and
"March" against "2019-03-05"), failed "UK" against "U.K." and "U.S." against "US", and passed
"US officials" against a source with no US at all ("US" was the stopword "us"), and "March 5
protest" against "May 5" (a lone sentence-start month read as a word). This script counts the
check's verdicts on real text, where each output is faithful, so every failure is a false one
or a real gap between title and text:

- MIND: each title against its own abstract, the first 2,000 items with an abstract of
  `../shared/data/mind-small/MINDsmall_train_sample/news.tsv.gz`;
- NeMig: the same for the first 3,000 items with an abstract of
  `../shared/data/nemig/en/news.tsv.gz`;
- rewrites: each MIND and NeMig abstract above with an AP-style month and day ("Nov. 18")
  spelled out, with "U.S."/"U.K." undotted, or with "US"/"UK" dotted, against itself;
- Wikinews: each article's lead sentence against its body (`sample/wikinews/items.jsonl`);
- invented word names (recall, not faithful: each should fail): each Wikinews lead sentence
  followed by a sentence naming, mid-sentence, a brand, party or surname that is also a word
  ("Analysts said shares of Apple fell sharply."; `_WORD_NAMES`) which the article never
  writes at all, and (`..._lower`) one it writes only in lower case ("apple prices");
- gemma3: the accepted outputs of a `benchmarks/generation.py --requests` file (default
  /tmp/run28_requests.jsonl, when it exists) against their article's title and body;
- probes: sentences written for this script, each with the verdict it should get.

`--before SRC` and `--show`: see `check_verdicts.main`.

    .venv/bin/python benchmarks/entities_formats.py [--before /tmp/before/src] [--show]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path
from typing import Any

import check_verdicts
from check_verdicts import DATA, MIND, REPO, WIKINEWS, wikinews_pairs

NEMIG = DATA / "nemig" / "en" / "news.tsv.gz"
_FULL = "January February August September October November December"
REQUESTS = Path("/tmp/run28_requests.jsonl")
DEFAULT_OUT = REPO / "benchmarks" / "results" / "entities_formats.json"
# (output, source, should pass): each problem both ways, and what must still fail.
PROBES = [
    # Months: abbreviated, spelled out, in digits.
    ("The vote is on November 18.", "The vote is on Nov. 18.", True),
    ("The vote is on Nov. 18.", "The vote is on November 18.", True),
    ("The vote is on Sept. 3.", "The vote is on September 3.", True),
    ("The shop closed in December.", "The shop closed on 25 Dec 2019.", True),
    ("The shop opened in March.", "The shop opened on 2019-03-05.", True),
    ("The shop opened in March.", "The shop opened on 3/5.", True),
    ("The vote is on November 18.", "The vote is on Oct. 18.", False),
    ("The shop opened in April.", "The shop opened on 2019-03-05.", False),
    ("The vote is on Dec. 18.", "The vote is on November 18.", False),
    ("Novak won the final.", "He won the final on Nov. 18.", False),
    ("Theresa May said so.", "The vote is in March.", False),
    # Acronyms: dots, and capitals that are no pronoun.
    ("The UK voted to leave.", "The U.K. voted to leave.", True),
    ("The U.K. voted to leave.", "The UK voted to leave.", True),
    ("The U.S. imposed tariffs.", "The US imposed tariffs.", True),
    ("The US imposed tariffs.", "The U.S. imposed tariffs.", True),
    ("The USA imposed tariffs.", "The U.S.A. imposed tariffs.", True),
    ("US officials said the talks failed.", "Officials said the talks failed.", False),
    ("US officials said the talks failed.", "The officials told us the talks failed.", False),
    ("WHO experts met on Monday.", "Experts met on Monday.", False),
    ("IT staff walked out.", "Staff walked out.", False),
    ("The UK voted to leave.", "The U.S. voted to leave.", False),
    ("WHO experts met on Monday.", "WHO experts met on Monday.", True),
    ("They told us the talks failed.", "The talks failed, they said.", True),
    ("I think the plan works.", "The plan works.", True),
    ("STORM HITS THE COAST AS WE WAIT", "A storm hit the coast while we waited.", True),
    # A month and day opening a sentence.
    ("March 5 protest drew crowds.", "The May 5 protest drew crowds.", False),
    ("May 5 was the deadline.", "The deadline was March 5.", False),
    ("March 5 protest drew crowds.", "The March 5 protest drew crowds.", True),
    ("May 5 was the deadline.", "The deadline was May 5.", True),
    # A Chinese word with a month inside (五月天, the band Mayday) gives no month.
    ("The concert is in May.", "五月天在台北举行演唱会。", False),
    ("The concert is in May.", "演唱会五月在台北举行。", True),
    # Brands the cased vocabulary writes in lower case, opening a sentence.
    ("Adidas sold more shoes.", "The company sold more shoes.", False),
    ("Interpol issued a notice.", "Police issued a notice.", False),
    ("Adidas sold more shoes.", "Shoe sales at Adidas rose.", True),
    ("Email scams rose.", "Scams by email rose.", True),
    # A word capitalised mid-sentence is a name, which the source's lower-case word is not.
    ("Wages rose, the Labour leader said.", "Wages and labour costs rose.", False),
    ("Analysts said shares of Apple fell.", "Shares of apple growers fell.", False),
    ("The deal was signed by Watt.", "The deal on watt prices was signed.", False),
    ("Wages rose, the Labour leader said.", "Labour's leader said wages rose.", True),
    ("The Tories won the seat.", "The Tory candidate won the seat.", True),
    ("The talks failed, the President said.", "The talks failed, the president said.", True),
    ("Sheriff Will Lewis was sentenced.", "Will Lewis, the sheriff, was sentenced.", True),
    ("The zoo's oldest Giraffe died.", "The zoo's oldest giraffe died.", True),
    # A generic word after the name the source writes right before it: house style (s32).
    ("The Republican Party still holds the majority.", "The Republican party holds it.", True),
    ("Floods hit towns along the Yangtze River.", "Floods hit the Yangtze river.", True),
    ("The Republican Party holds it in both houses.", "The Republican said the party won.", False),
    # A month and a name spelled alike license each other only in their own sense.
    ("Sales rose in May.", "Theresa May said sales rose in June.", False),
    ("Theresa May said sales rose.", "Theresa Smith said sales rose in May.", False),
    ("Prime Minister May said sales rose.", "The prime minister said sales rose in May.", False),
    ("Sales rose in May.", "Theresa May said sales rose in May.", True),
    ("Prime Minister May said sales rose.", "Prime Minister Theresa May said sales rose.", True),
    ("The talks, May said, failed.", "May said the talks failed.", True),
]


def tsv_pairs(path: Path, limit: int) -> list[tuple[str, str]]:
    """(title, abstract) of the first `limit` items with an abstract of a MIND-format file."""
    pairs: list[tuple[str, str]] = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) > 4 and fields[3].strip() and fields[4].strip():
                pairs.append((fields[3], fields[4]))
                if len(pairs) == limit:
                    break
    return pairs


def accepted_outputs(path: Path) -> list[tuple[str, str]]:
    """(output, title and body) of every output a generation run accepted from a model."""
    items = [json.loads(line) for line in WIKINEWS.open(encoding="utf-8")]
    pairs: list[tuple[str, str]] = []
    for line in path.open(encoding="utf-8"):
        r = json.loads(line)
        item = items[r["request"]]
        for output, by in zip(r["outputs"], r["produced_by"], strict=True):
            if not by.startswith("extractive"):
                pairs.append((output, f"{item['title']}\n{item['body']}"))
    return pairs


# AP-style months with a day ("Nov. 18") spelled out, and acronyms with and without dots.
_AP_MONTH = re.compile(r"\b(Jan|Feb|Aug|Sept|Oct|Nov|Dec)\. (?=\d)")
_SPELLED = dict(zip(["Jan", "Feb", "Aug", "Sept", "Oct", "Nov", "Dec"], _FULL.split(), strict=True))
_DOTTED = re.compile(r"\b([A-Z])\.([A-Z])\.(?!\w)")
_UNDOTTED = re.compile(r"\b(US|UK)\b(?!-)")


def rewrites(pairs: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Each abstract that has an AP-style month with a day, "U.S."/"U.K." or "US"/"UK",
    rewritten in the other form, against itself: the same facts, so every failure is false."""
    months = [(_AP_MONTH.sub(lambda m: f"{_SPELLED[m[1]]} ", a), a) for _, a in pairs]
    undotted = [(_DOTTED.sub(r"\1\2", a), a) for _, a in pairs]
    dotted = [(_UNDOTTED.sub(lambda m: f"{m[1][0]}.{m[1][1]}.", a), a) for _, a in pairs]
    return {
        "months_spelled_out": [(o, a) for o, a in months if o != a],
        "acronyms_undotted": [(o, a) for o, a in undotted if o != a],
        "acronyms_dotted": [(o, a) for o, a in dotted if o != a],
    }


# Names that are also ordinary words, each kind in a sentence that names it mid-sentence.
_WORD_NAMES = {
    "Analysts said shares of {} fell sharply.": """Apple Shell Target Gap Orange Visa Jaguar
        Puma Dove Subway Tide Mars Sky Fox Delta Oracle Meta Alphabet Boots Sage""",
    "The plan was criticised by the {}, officials said.": """Labour Tories Greens Liberals
        Conservatives Reform Sun Times Mirror Post Express Star Independent Observer Standard
        Nation""",
    "The plan was criticised by {}, officials said.": """Cruise Watt Bush Price Banks Chase
        Stone King Young White Black Hope Singer Wolf Swift Bird Crane Bond Silver Hawk Power
        Law Day House Church Field Hall Wood Long Little Small Strong Best Good Bell Short""",
}


def invented_word_names(pairs: list[tuple[str, str]], *, lower: bool) -> list[tuple[str, str]]:
    """Each (lead sentence, body) with a sentence naming a `_WORD_NAMES` name that the body
    never writes in any form ("Tory", "apples", "kingdom" count), or (`lower`) writes only in
    lower case, plain or inflected ("apple", "prices", "kings"): the first such name from the
    article's place in the list on, so that each name has a turn."""
    names = [(template, n) for template, ns in _WORD_NAMES.items() for n in ns.split()]
    out: list[tuple[str, str]] = []
    for i, (lead, body) in enumerate(pairs):
        for k in range(len(names)):
            template, name = names[(i + k) % len(names)]
            singular = re.sub(r"ies$", "y", name).removesuffix("s")  # Tory, Liberal
            stem = rf"\b(?:{name}|{singular})"
            if lower:
                forms = re.findall(rf"{stem}(?:s|es|ed|ing)?\b", body, flags=re.IGNORECASE)
                chosen = bool(forms) and not any(f[0].isupper() for f in forms)
            else:
                chosen = re.search(stem, body, flags=re.IGNORECASE) is None
            if chosen:
                out.append((f"{lead} {template.format(name)}", body))
                break
    return out


def corpora(requests: Path | None) -> dict[str, list[tuple[str, str]]]:
    mind, nemig = tsv_pairs(MIND, 2000), tsv_pairs(NEMIG, 3000)
    out = {"mind_title_vs_abstract": mind, "nemig_title_vs_abstract": nemig}
    for corpus, pairs in (("mind", mind), ("nemig", nemig)):
        out |= {f"{corpus}_{name}": texts for name, texts in rewrites(pairs).items()}
    out["wikinews_lead_vs_body"] = wikinews_pairs()
    out["wikinews_invented_word_name"] = invented_word_names(wikinews_pairs(), lower=False)
    out["wikinews_invented_word_name_lower"] = invented_word_names(wikinews_pairs(), lower=True)
    if requests is not None and requests.exists():
        out["gemma3_accepted"] = accepted_outputs(requests)
    out["probes"] = [(o, s) for o, s, _ in PROBES]
    return out


def verdicts(requests: Path | None) -> dict[str, list[list[Any]]]:
    """[passed, detail] for every pair of every corpus, by the feedcraft on sys.path."""
    from feedcraft.llm.guardrails import check_entities

    out: dict[str, list[list[Any]]] = {}
    for name, pairs in corpora(requests).items():
        out[name] = [[r.passed, r.detail] for r in (check_entities(o, s) for o, s in pairs)]
    return out


def _requests_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=Path, default=REQUESTS, help="generation requests")


if __name__ == "__main__":
    check_verdicts.main(
        __file__,
        __doc__,
        DEFAULT_OUT,
        lambda args: verdicts(args.requests),
        lambda args: corpora(args.requests),
        PROBES,
        options=_requests_option,
        passed_on=lambda args: ["--requests", str(args.requests)],
    )
