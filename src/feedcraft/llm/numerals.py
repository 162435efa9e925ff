"""Reading numbers out of text, for the guardrails' numbers and units checks.

Numbers come as digits ("1,200", "３"), English words ("twenty-five", "two hundred and fifty",
"4 billion") or Chinese numerals ("三百", "一亿两千万", "二〇〇四"). Every reader here returns
values, so that "1,200", "1200.0" and "one thousand two hundred" compare equal (`canonical`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import suppress
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial

from feedcraft.llm.safety import strip_invisible

__all__ = [
    "CARDINALS",
    "DIGITS",
    "EN_WORD_NUMBER",
    "ZH_DIGITS",
    "ZH_UNITS",
    "ZH_WORDS",
    "canonical",
    "fold",
    "normalise_number",
    "numbers_in",
    "round_half_up",
    "rounded",
    "source_numbers",
    "word_value",
    "written_numbers",
    "zh_checked",
    "zh_value",
]

DIGITS = r"\d+(?:[.,]\d+)*"
_NUMBER = re.compile(DIGITS)
_CARDINAL_WORDS = """one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty
    seventy eighty ninety hundred thousand million billion"""
_CARDINAL_VALUES = [*range(1, 20), *range(20, 100, 10), 100, 1000, 10**6, 10**9]
CARDINALS = dict(zip(_CARDINAL_WORDS.split(), _CARDINAL_VALUES, strict=True))
round_half_up = partial(Decimal.quantize, exp=Decimal(1), rounding=ROUND_HALF_UP)
# Source words that license a number alone ("three": 3); ordinals are not checked in an output
# ("second" is also a unit of time); a scale word alone licenses nothing (not "a million").
_NUMBER_WORDS = {w: str(v) for w, v in CARDINALS.items() if v < 100} | {"zero": "0"}
_NUMBER_WORDS |= {"first": "1", "second": "2", "third": "3", "dozen": "12"}
EN_WORD_NUMBER = "|".join(sorted(CARDINALS, key=len, reverse=True))
# A number in words, or in digits with a scale word ("twenty-five", "two hundred and fifty",
# "4 billion"); "and" only after a scale word, so "five and ten" stays two numbers.
_EN_NUMBER = re.compile(  # digits as Decimal reads them: "1,200,000.5", not "2004.11.13"
    rf"(?:(?<![\d.,])\d+(?:,\d{{3}})*(?:\.\d+)?(?![\d.,]\d)|\b(?:{EN_WORD_NUMBER})s?)(?:(?:[ \t-]+"
    rf"|(?:(?<=hundred)|(?<=thousand)|(?<=million)|(?<=billion))\s+and\s+)"
    rf"(?:{EN_WORD_NUMBER})s?)*\b"
)
ZH_DIGITS = dict(zip("〇零一二两兩三四五六七八九", map(int, "0012223456789"), strict=True))
ZH_UNITS = dict(zip("十百千万萬亿億", (10, 100, 1000, 10**4, 10**4, 10**8, 10**8), strict=True))
_ZH_NUMBER = re.compile(rf"({DIGITS})?\s*([{''.join(ZH_DIGITS)}{''.join(ZH_UNITS)}]+)")
# Chinese numerals checked in an output: with a digit other than 一 or 零 ("三百", "二〇〇四"),
# 一 before a unit ("一百"), 十 leading ("十万"). Lone 一 and units are mostly words ("统一",
# "万一", "千万不要", "百姓", "十分", "零售"), two digits a range ("两三天"); nor these words:
_ZH_CHECKED = re.compile(r"[二三四五六七八九两兩〇]|一[十百千万萬亿億]|^十.")
ZH_WORDS = re.compile("三明治|四分[卫衛]|五角大[楼樓]|四[处處]|四周|三角|八卦|二手|三星")


def fold(text: str) -> str:
    """NFKC without invisible characters, which NFKC keeps ("da\u200bmn" must match "damn")."""
    return strip_invisible(unicodedata.normalize("NFKC", text or ""))


def normalise_number(token: str) -> str:
    token = re.sub(r",(?=\d{3}(?:\D|$))", "", token)  # thousands separators
    return token.replace(",", ".").rstrip(".")


def canonical(number: str | Decimal) -> str:
    """One spelling per value: "1200" = "1,200" = "1200.0"; dates ("2004.11.13") as they are."""
    with suppress(InvalidOperation):
        return format(Decimal(number).normalize(), "f")
    return str(number)


def numbers_in(text: str) -> set[str]:
    """Numbers written with digits, normalised ("1,000" = "1000"; fullwidth digits folded)."""
    return {normalise_number(m.group(0)) for m in _NUMBER.finditer(fold(text))}


def zh_value(digits: str | None, run: str) -> Decimal:
    """The value of "三百" (300), "一亿两千万" (120000000), "二〇〇四" (2004), "300万"."""
    if not digits and not any(c in ZH_UNITS for c in run):  # digit by digit: a year, a code
        return Decimal("".join(str(ZH_DIGITS[c]) for c in run))
    total = section = Decimal(0)
    digit = Decimal(normalise_number(digits)) if digits else Decimal(0)
    for c in run:
        if c in ZH_DIGITS:
            digit = Decimal(ZH_DIGITS[c])
        elif (unit := ZH_UNITS[c]) < 10**4:
            section, digit = section + (digit or 1) * unit, Decimal(0)
        else:  # 万 adds its part; 亿 multiplies everything before it ("一万亿")
            part = (total if unit > 10**4 else Decimal(0)) + section + digit
            total = (total if unit == 10**4 else Decimal(0)) + (part or 1) * unit
            section = digit = Decimal(0)
    return total + section + digit


def zh_checked(digits: str | None, run: str) -> bool:
    """Whether a Chinese numeral is read as a number in an output (see `_ZH_CHECKED`)."""
    pair = len(run) == 2 and all(c in ZH_DIGITS for c in run)
    return bool(digits) or (not pair and bool(_ZH_CHECKED.search(run)))


def word_value(words: Sequence[str]) -> Decimal:
    """The value of lower-case number words and digits: ["two", "hundred", "fifty"] is 250,
    ["4", "billion"] 4000000000 ("and" already left out; "hundreds" counts as "hundred")."""
    total = part = Decimal(0)
    for w in words:
        n = Decimal(CARDINALS.get(w) or CARDINALS.get(w[:-1]) or normalise_number(w))
        if w[0].isdigit() or n < 100:
            part += n
        elif n == 100:
            part = (part or 1) * n
        else:
            total, part = total + (part or 1) * n, Decimal(0)
    return total + part


def written_numbers(text: str) -> Iterator[tuple[str, Decimal, bool, bool]]:
    """(as written, value, vague, checked) for every number written in words, Chinese numerals
    or digits with a scale word. "Hundreds" is vague: at least 100. Not checked in an output:
    a lone "one" ("one of the", "no one") and the Chinese numerals `_ZH_CHECKED` leaves out."""
    for m in _EN_NUMBER.finditer(re.sub(r"(?<=\d) ?bn\b", " billion", text.lower())):
        words = [w for w in re.findall(r"[\d.,]+|[a-z]+", m.group(0)) if w != "and"]
        value = word_value(words)
        vague = len(words) == 1 and words[0] not in CARDINALS  # "hundreds"
        if not words[-1][0].isdigit():  # digits alone: see numbers_in
            yield m[0], value, vague, words != ["one"] and (not vague or value >= 100)
    for m in _ZH_NUMBER.finditer(ZH_WORDS.sub(" ", text)):
        with suppress(InvalidOperation):
            yield m[0].strip(), zh_value(m[1], m[2]), False, zh_checked(m[1], m[2])


def rounded(value: Decimal, mantissa: Decimal) -> set[Decimal]:
    """`value` with its written decimal `mantissa` rounded down and half up, as a source
    licenses them: "$11.5bn" gives 11 and 12 billion, "13.5 km" 13 and 14 km."""
    return {value / mantissa * w for w in (int(mantissa), round_half_up(mantissa))}


def source_numbers(source: str) -> set[str]:
    """Every number the source licenses, in `canonical` spelling."""
    numbers: set[str] = set()
    for n in numbers_in(source):  # 2004.11.13 licenses its parts, 13.5 only 13 and 14 (not 5)
        parts = n.split(".")
        numbers |= {n, *parts} if len(parts) > 2 else {n, parts[0], str(round_half_up(Decimal(n)))}
    words = re.findall(r"[a-z]+", source.lower())
    numbers.update(_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS)
    for written, value, _, _ in written_numbers(fold(source)):
        numbers.add(str(value))
        if (lead := re.match(rf"{DIGITS}(?= ?[a-z千万萬亿億])", written)) and "." in lead[0]:
            mantissa = Decimal(normalise_number(lead[0]))  # "$11.5bn" licenses "11 billion"
            numbers |= {str(v) for v in rounded(value, mantissa)}
        numbers |= {str(value / u) for c, u in ZH_UNITS.items() if u >= 10**4 and c in written}
    return {canonical(n) for n in numbers}
