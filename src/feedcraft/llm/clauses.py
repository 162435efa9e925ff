"""Reading a leading run of clauses: does it reach a main clause, or only set the scene?

The extractive fallback serves a sentence's leading clauses, up to a comma, when the whole
sentence does not fit. A run that opens with a subordinate clause ("If the bill passes,")
and stops before its main clause is no headline. Commas do not only end clauses, though:
they list ("When it comes to lean, ethical meat"), set off asides ("If Boric, who holds a
narrow lead, wins the race") and appositives ("As the Pope visited Cyprus, a country
overwhelmed by ..."), and a piece between two of them is a main clause only when it has a
subject and a finite verb. No parser is at hand, so the reading is by word lists and regular
endings, erring towards calling a run a fragment: a fragment served costs more than a good
run skipped (a complete sentence, or a cut marked "…", takes its place).
"""

from __future__ import annotations

import re
from itertools import pairwise

from feedcraft.text.script import has_han

__all__ = ["CLAUSE_BREAK", "is_adverbial", "is_fragment"]

# Clause breaks: after ASCII , ; : before a space (not "2,000"), after Chinese marks, before a
# spaced dash. A headline is a sentence up to one of them, so it stays verbatim.
CLAUSE_BREAK = re.compile(r"(?P<after>[,;:](?=\s)|[，；：、])|\s+[-–—]\s")
_WORD = re.compile(r"[^\W_][\w'’]*")
# A leading clause opening with one of these is an adverbial, not a headline: "Following
# the invasion of Iraq", "If the bill passes", "随着气温下降" (as temperatures fall). So is
# "在…上/中/时/后" (at, during, after ...).
_EN_ADVERBIAL = frozenset(
    """after although amid as because before despite during following if once since though
    unless until upon when whenever whereas while""".split()  # noqa: SIM905
)
# Of those, the ones that open a clause, never a bare noun phrase: in "While the Greens,
# Eurosceptics and the Communist Party voted against, the Commission ..." the commas list
# the subject, and the main clause has not begun where the verb is reached. "After the vote,
# the party split" and "Because of the storm, ..." have theirs.
_EN_CLAUSAL = frozenset(
    "although because if though unless when whenever whereas while".split()  # noqa: SIM905
)
# A noun phrase opens with a determiner or a name: "the Greens", "Labour".
_EN_DETERMINER = frozenset(
    """the a an this that these those his her its their our my your some many most all both
    several few each every no""".split()  # noqa: SIM905
)
# ... and a word ending in "s" after one of these, or after a preposition, is a noun: "like
# angels", "the benefits".
_EN_BEFORE_NOUN = _EN_DETERMINER | frozenset(
    """of in on at by for from with like to into onto about among between per than under
    over without""".split()  # noqa: SIM905
)
# Words that make a run of words a clause: auxiliaries, subject pronouns and common irregular
# past tenses (regular forms are told by their ending, `_has_verb`).
_EN_VERBAL = frozenset(
    """am is are was were be been has have had do does did will would can could shall should
    may might must i you he she it we they it's he's she's that's there's won lost fell
    rose said made took went came saw left met ran began became held kept told found gave
    got hit cut put set led sold paid built brought thought bought fought caught sent spent
    stood wrote spoke broke chose drove grew threw knew flew drew struck shot fled heard
    sought sat slept dealt meant lay laid shut quit split spread beat sang rang ate drank
    sank stole woke wore tore swore froze forgot hid bit lit slid fed dug hung stuck swung
    shook swept wept lent bent withdrew upheld undertook overcame arose rode strove crept
    felt let""".split()  # noqa: SIM905
)
# Of those, the ones that are (or hold) a subject, and the ones that open an imperative:
# "don't worry" is a main clause without a subject before its verb, "wins the race" is not.
_EN_SUBJECTS = frozenset(
    "i you he she it we they it's he's she's that's there's".split()  # noqa: SIM905
)
_EN_IMPERATIVE = frozenset("do don't let let's".split())  # noqa: SIM905
# ... and words ending in "s" that are not ("as a nation").
_EN_NOT_VERBS = frozenset(
    """as his its this thus yes always perhaps whereas towards afterwards besides sometimes
    news""".split()  # noqa: SIM905
)
# Words a clause piece opens with when it goes on with what came before, not a main clause;
# the relative pronouns open an aside inside a clause too ("If Boric, who holds a lead, wins").
_EN_RELATIVE = frozenset("which who whom whose".split())  # noqa: SIM905
_EN_CONTINUING = _EN_RELATIVE | frozenset("and or nor but".split())  # noqa: SIM905
_ZH_ADVERBIAL = tuple(
    """随着 隨著 由于 由於 因为 因為 如果 假如 虽然 雖然 尽管 儘管 即使 为了 為了 自从 自從
    除了 当 當""".split()  # noqa: SIM905 (Simplified and Traditional forms)
)
_ZH_LOCATIVE = tuple(
    "上 中 时 時 后 後 前 下 里 裡 期间 期間 以来 以來 之际 之際".split()  # noqa: SIM905
)


def is_adverbial(head: str) -> bool:
    """Leading clauses that never reach their main clause: one that opens with a subordinating
    word or preposition ("Following the invasion of Iraq", "随着气温下降", "在会议上"), or a
    run of them with no main clause after the subordinate one ("While the Greens,
    Eurosceptics and the Communist Party voted against"; "After winning an Oscar, multiple
    Grammys"). It sets the scene of a sentence whose main clause did not fit, and is no
    headline on its own."""
    if has_han(head[:1]):
        locative = head.startswith("在") and head.endswith(_ZH_LOCATIVE)
        return not CLAUSE_BREAK.search(head) and (head.startswith(_ZH_ADVERBIAL) or locative)
    pieces = _pieces(head)
    opener = pieces[0][0].casefold() if pieces else ""
    if opener not in _EN_ADVERBIAL:
        return False
    end = 0  # a phrase ends at the first break: "After the vote,", "Because of the storm,"
    if opener in _EN_CLAUSAL and pieces[0][1:2] != ["of"]:
        end = _subordinate_end(pieces[0][1:], pieces[1:])
    return not any(_main_clause(words) for words in pieces[end + 1 :])


def is_fragment(sentence: str) -> bool:
    """A whole sentence (as the source splits it) that is only a subordinate clause or phrase:
    "Since 2005, Texas Govs." (split at an abbreviation), "As part of the promotion.". One
    without a comma whose words include a verb may hold its main clause unmarked ("When
    crews arrived they advised ..."), and a question or exclamation is read as whole."""
    text = sentence.rstrip(" \"'”’)）")
    if text.endswith(("?", "!", "？", "！")) or has_han(text[:1]) or not is_adverbial(text):
        return False
    pieces = _pieces(text)
    return len(pieces) > 1 or not _has_verb(pieces[0][1:])


def _pieces(head: str) -> list[list[str]]:
    """The words of each clause piece of `head` (between breaks), empty pieces left out."""
    starts = [0, *(m.end() for m in CLAUSE_BREAK.finditer(head))]
    ends = [*(m.start() for m in CLAUSE_BREAK.finditer(head)), len(head)]
    pieces = [_WORD.findall(head[a:b]) for a, b in zip(starts, ends, strict=True)]
    return [words for words in pieces if words]


def _subordinate_end(first: list[str], rest: list[list[str]]) -> int:
    """Which clause piece ends a subordinate clause: the first with a verb, or the first at
    all when it is no noun phrase ("When asked", "While in office"). A noun phrase without
    one is listing its subject ("While the Greens, Eurosceptics and ... voted against"), or
    is followed by an aside on it, whose verb is not the clause's ("If Boric, who holds a
    narrow lead, wins the race")."""
    noun_phrase = bool(first) and (first[0].casefold() in _EN_DETERMINER or first[0][0].isupper())
    if not noun_phrase or _has_verb(first[1:]):
        return 0
    for i, words in enumerate(rest, start=1):
        if words[0] not in _EN_RELATIVE and _has_verb(words):
            return i
    return len(rest) + 1


def _main_clause(words: list[str]) -> bool:
    """A clause piece that can be a main clause: one with a subject and a verb that does not
    open like the rest of a list or an aside ("and launching ...", "which occurred ..."), nor
    like a predicate whose subject came before ("wins the race", "simply put"); after an
    opening participle or adverb the verb must be finite ("producing the season's second
    win" has none, "everything was reduced" has one). An appositive ("a country overwhelmed
    by asylum-seekers") has a participle, not a verb."""
    first = words[0]
    if first[0].islower() and first in _EN_CONTINUING:
        return False
    rest = words
    while rest and rest[0][0].islower() and rest[0].endswith("ly"):
        rest = rest[1:]  # "simply put", "however"
    if rest and _predicate(rest):
        return False  # its subject is in an earlier piece
    if first.casefold() in ("a", "an") and _reduced_passive(words):
        return False
    if first[0].islower() and first.endswith(("ed", "ing", "ly")):
        return _has_verb(words[1:], participles=False)
    return _has_verb(words)


def _predicate(words: list[str]) -> bool:
    """`words` open with a finite verb, not a subject: an auxiliary or irregular past ("was
    held", "put"), a negation ("doesn't"), or an "s" form before a determiner ("wins the
    race"; "officials said" opens with its subject, "don't worry" is an imperative)."""
    word = words[0].casefold().replace("’", "'")
    if not words[0][0].islower() or word in _EN_SUBJECTS | _EN_IMPERATIVE:
        return False
    if word in _EN_VERBAL or word.endswith("n't"):
        return True
    verb_s = word.endswith("s") and not word.endswith(("ss", "us", "'s"))
    return (
        verb_s
        and word not in _EN_NOT_VERBS
        and words[1:2] != []
        and (words[1].casefold() in _EN_DETERMINER)
    )


def _reduced_passive(words: list[str]) -> bool:
    """A participle followed by "by" and no auxiliary: "a country overwhelmed by ..."."""
    lowered = [w.casefold() for w in words]
    auxiliary = any(w in _EN_VERBAL and w not in _EN_SUBJECTS for w in lowered)
    participle = any(w.endswith("ed") and nxt == "by" for w, nxt in pairwise(lowered))
    return participle and not auxiliary


def _has_verb(words: list[str], *, participles: bool = True) -> bool:
    """A finite (or participle) form among `words`, by word list or regular ending ("voted",
    "passes", "visiting"); a capitalised word is a name ("Greens"), an "'s" a possessive, and
    an "s" after a determiner or preposition a plural ("like angels")."""
    before = ""
    for word in words:
        lower = word.casefold().replace("’", "'")
        previous, before = before, lower
        if lower in _EN_VERBAL or lower.endswith(("n't", "'re", "'ve")):
            return True
        if not word[0].islower() or lower.endswith("'s"):
            continue
        if lower.endswith("ed") or (participles and lower.endswith("ing")):
            return True
        plural = previous in _EN_BEFORE_NOUN or lower.endswith(("ss", "us"))
        if lower.endswith("s") and not plural and lower not in _EN_NOT_VERBS:
            return True
    return False
