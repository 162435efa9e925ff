"""Shares: a part of a whole however it is written, for the guardrails' numbers check.

A source gives a share as "one in three", "1 out of every 3", "1/3", "a third" (read with the
ordinals, `numerals.ordinal_numbers`), "三分之一", "三成" (tenths), or a percentage ("33%",
"33 per cent", "百分之三十三"). A faithful output may give it in another of these forms:
"a third" for "33%", "33%" for "one in three", "三分之一" for "百分之三十三". The source's
shares become keys of the numbers it licenses (`source_shares`: "share 1/3", "percent 33"),
and an output's shares found among them are blanked before its numbers are read
(`blank_licensed_shares`), so that "one in three" is not read as the numbers 1 and 3 the
source never wrote.

A pair the source writes "a/b" (a score, rating or tally: "went 3/5", "rated 7/10") is also a
key of its own ("pair 3/5"): it licenses the count "3 of 5", "three of the five" (`_OF_PAIR`),
and on a star scale (out of 4, 5 or 10) the rating "3 stars", "a three-star" (`_STARS`),
which a percentage does not ("60%" is no count of games), nor the same share in other numbers
("6/10"). It licenses no bare 3 or 5: a slash pair may be a date ("9/11", see `dates`), and
one right after a date word ("on 3/5", "after 9/11", "post-9/11") gives no pair nor share,
nor do the slash names of the news ("the 9/11 attacks", "7/7", "50/50", "20/20") but after a
tally verb ("went 9/11").
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator
from contextlib import suppress
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, DecimalException
from fractions import Fraction

from feedcraft.llm.number_words import (
    EN_WORD_NUMBER,
    ZH_DIGITS,
    ZH_UNITS,
    canonical,
    normalise_number,
    share_key,
    word_value,
    zh_value,
)

__all__ = ["blank_licensed_shares", "pair_key", "percent_key", "source_shares"]

_ONE_IN = re.compile(
    rf"\b(?P<n>\d+|{EN_WORD_NUMBER})[ \t]+(?:in|out[ \t]+of)[ \t]+(?:every[ \t]+)?"
    rf"(?P<d>\d+|{EN_WORD_NUMBER})\b",
    re.I,
)
_SLASH_SHARE = re.compile(r"(?<![\d.,/])(\d{1,2})/(\d{1,3})(?![\d/]|[.,]\d)")
# A slash pair right after these is a date: "on 3/5", "since 9/11", "post-9/11".
_DATE_BEFORE = re.compile(
    r"(?:\b(?:on|since|until|till|before|after)[ \t]+|\b(?:pre|post)-)$", re.I
)
# Slash pairs that are names in news, not tallies: the attacks of 11 September 2001, the London
# bombings of 7 July 2005, an even split, the TV programme (and sight). After a tally verb
# ("went 9/11 from the field") they are tallies again.
_SLASH_NAMES = frozenset({"9/11", "7/7", "50/50", "20/20"})
_TALLY_BEFORE = re.compile(r"\b(?:went|shot|hit|made|was|were|is|are|goes|finished)[ \t]+$", re.I)
# A count of a whole in an output: "3 of 5 games", "three of the five", not in a compound
# ("twenty-five of thirty") nor a decimal ("3 of 5.5").
_OF_PAIR = re.compile(
    rf"(?<![\w.,-])(?P<n>\d+|{EN_WORD_NUMBER})[ \t]+of[ \t]+(?:the[ \t]+)?"
    rf"(?P<d>\d+|{EN_WORD_NUMBER})\b(?![.,]\d|-)",
    re.I,
)
# A rating in stars in an output: "3 stars", "three-star", not in a compound or a decimal.
_STARS = re.compile(rf"(?<![\w.,-])(?P<n>\d+|{EN_WORD_NUMBER})(?:[ \t]+|-)stars?\b(?![.,]\d)", re.I)
#: The scales a rating "a/b" is given on, whose "a" an output may give in stars.
_STAR_SCALES = frozenset({4, 5, 10})
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d+)?)[ \t]*(?:%|per[ \t]?cent\b|pct\b)", re.I)
_HAN = "".join(ZH_DIGITS) + "".join(ZH_UNITS)
_HAN_DECIMALS = "".join(c for c in ZH_DIGITS if c not in "两兩")
# A Chinese number: digits, or a numeral with its decimals after 点 ("三十三点三").
_ZH_AMOUNT = rf"\d+(?:\.\d+)?|[{_HAN}]+(?:[点點][{_HAN_DECIMALS}]+)?"
# 百分之三十 (30 per cent), 三分之一 (a third); the denominator starts a numeral, not inside
# one ("三十分之一" is 1/30). 百分之 is a percentage, of any size ("百分之一百二十").
_ZH_PERCENT = re.compile(rf"(?<![{_HAN}\d])百分之(?P<n>{_ZH_AMOUNT})")
_ZH_FRACTION = re.compile(rf"(?<![{_HAN}\d])(?P<d>\d+|[{_HAN}]+)分之(?P<n>\d+|[{_HAN}]+)")
# Tenths: 三成 (30%), 九成五 (95%), 十成 (100%). Not inside a numeral (二十成立), after a
# weekday (星期六成功), nor a word with 成 (成功, 成为, 成员, 成人 but 四成人口) or 一成不变.
_ZH_TENTHS = re.compile(
    r"(?<![一二两兩三四五六七八九十百千万萬零〇\d期周週拜])(?P<t>[一二两兩三四五六七八九十])成"
    r"(?:(?P<h>[一二三四五六七八九])(?![一二三四五六七八九十百千万萬亿億个個年月日天号號时時分秒名位次倍元块塊岁歲]))?"
    r"(?!不[变變])"
    r"(?![功为為员員立长長本果绩績交都就熟型品份分年千群批套片形行事婚活文药藥衣像家名败敗效器语語全真色团團亲親才材书書规規]|人(?!口))"
)
# How far a percentage may be from a share it licenses: "33%" is a third, "67%" two-thirds.
_ROUNDING_POINTS = 1.5


def percent_key(value: Decimal) -> str:
    """How a percentage is compared with a share in the source: "percent 33.3"."""
    return f"percent {canonical(value)}"


def pair_key(part: int, whole: int) -> str:
    """How a pair the source writes "a/b" is compared with an output's "a of b": as written,
    not reduced ("pair 3/5"; "6/10" is another pair)."""
    return f"pair {part}/{whole}"


def stars_key(stars: int) -> str:
    """How a rating the source writes "a/b" on a star scale is compared with an output's "a
    stars" ("stars 3")."""
    return f"stars {stars}"


def _star_ratings(text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Ratings in stars in `text` with their `stars_key`: "3 stars", "a three-star hotel"."""
    for m in _STARS.finditer(text):
        with suppress(DecimalException, ValueError, KeyError):
            n = _en_amount(m["n"])
            if 0 <= n <= 10 and n == int(n):
                yield m, stars_key(int(n))


def _zh_amount(text: str) -> Decimal:
    """ "33", "33.3", "三十三", "三十三点三" as a value."""
    if text[0].isdigit():
        return Decimal(normalise_number(text))
    whole, _, decimals = text.replace("點", "点").partition("点")
    value = zh_value(None, whole)
    if decimals:
        value += Decimal("0." + "".join(str(ZH_DIGITS[c]) for c in decimals))
    return value


def _en_amount(text: str) -> Decimal:
    return word_value([text.lower()])


def _exact_shares(text: str) -> Iterator[tuple[re.Match[str], Fraction]]:
    """Shares written as two whole numbers: "one in three", "1 out of every 3", "三分之一",
    "三成" (3 in 10); at most 100 parts ("1 in 1,000" is a rate, not read here)."""
    for m, amount in ((m, _en_amount) for m in _ONE_IN.finditer(text)):
        with suppress(DecimalException, ValueError, KeyError):
            n, d = amount(m["n"]), amount(m["d"])
            if 0 < n <= d <= 100 and n == int(n) and d == int(d):
                yield m, Fraction(int(n), int(d))
    for m in _ZH_TENTHS.finditer(text):
        hundredths = ZH_DIGITS[m["h"]] if m["h"] else 0
        yield m, Fraction(10 * int(zh_value(None, m["t"])) + hundredths, 100)
    for m in _ZH_FRACTION.finditer(text):
        if m["d"] == "百":  # 百分之: a percentage
            continue
        with suppress(DecimalException, ValueError, KeyError):
            n, d = _zh_amount(m["n"]), _zh_amount(m["d"])
            if 0 < n <= d <= 100 and n == int(n) and d == int(d):
                yield m, Fraction(int(n), int(d))


def _of_pairs(text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Counts of a whole in `text` with their `pair_key`: "3 of 5", "three of the five"; at
    most 100 parts, as shares."""
    for m in _OF_PAIR.finditer(text):
        with suppress(DecimalException, ValueError, KeyError):
            n, d = _en_amount(m["n"]), _en_amount(m["d"])
            if 0 <= n <= d <= 100 and d > 0 and n == int(n) and d == int(d):
                yield m, pair_key(int(n), int(d))


def _slash_pairs(folded: str) -> Iterator[tuple[int, int]]:
    """The pairs a source writes "a/b" ("3/5", "7/10", "0/4"), but for dates: with a year
    ("3/5/2019", `_SLASH_SHARE`) or after a date word ("on 3/5", `_DATE_BEFORE`)."""
    for m in _SLASH_SHARE.finditer(folded):
        a, b = int(m[1]), int(m[2])
        dated = _DATE_BEFORE.search(folded, max(0, m.start() - 8), m.start())
        named = m[0] in _SLASH_NAMES and not _TALLY_BEFORE.search(
            folded, max(0, m.start() - 12), m.start()
        )
        if 0 <= a <= b <= 100 and b > 0 and not dated and not named:
            yield a, b


def _percentages(text: str) -> Iterator[tuple[re.Match[str], Decimal]]:
    """ "33%", "33.3 per cent", "7 pct", "百分之三十三"."""
    for m in _PERCENT.finditer(text):
        yield m, Decimal(m[1])
    for m in _ZH_PERCENT.finditer(text):
        with suppress(DecimalException, ValueError, KeyError):
            yield m, _zh_amount(m["n"])


def _percents_of(share: Fraction) -> set[str]:
    """The percentages a writer rounds `share` to: down and half up, whole or to a tenth
    ("one in three": 33 and 33.3; two-thirds: 66, 67, 66.6 and 66.7)."""
    value = Decimal(share.numerator) * 100 / Decimal(share.denominator)
    return {
        percent_key(value.quantize(step, rounding=rounding))
        for step in (Decimal(1), Decimal("0.1"))
        for rounding in (ROUND_FLOOR, ROUND_HALF_UP)
    }


def source_shares(folded: str, worded: Iterable[str] = ()) -> set[str]:
    """The shares a source gives as keys (`share_key`, `percent_key`): its exact shares (and
    `worded`, the share keys of its fractions in words, "a third"), each with the percentages
    it rounds to; and every share within 1.5 points of a percentage it gives ("33%": a third;
    "67 per cent": two-thirds): a faithful output rounds. Its pairs "a/b" also give their
    `pair_key` ("went 3/5": "3 of 5"), but for dates (`_slash_pairs`)."""
    exact = {share for _, share in _exact_shares(folded)}
    pairs = set(_slash_pairs(folded))
    exact |= {Fraction(a, b) for a, b in pairs if a}
    for key in worded:
        n, _, d = key.removeprefix("share ").partition("/")
        exact.add(Fraction(int(n), int(d)))
    found = {share_key(s.numerator, s.denominator) for s in exact}
    found |= {pair_key(a, b) for a, b in pairs}
    found |= {stars_key(a) for a, b in pairs if b in _STAR_SCALES}
    for share in exact:
        found |= _percents_of(share)
    for _, percent in _percentages(folded):
        if 0 < percent <= 100:  # "63%": 六成三, "63 in 100"
            exact_share = Fraction(percent / 100).limit_denominator(1000)
            found.add(share_key(exact_share.numerator, exact_share.denominator))
        found |= {
            share_key(n, d)
            for d in range(3, 21)
            for n in range(1, d)
            if abs(100 * n / d - float(percent)) <= _ROUNDING_POINTS
        }
    return found


def blank_licensed_shares(folded: str, allowed: Container[str]) -> str:
    """`folded` (an output) with each share the source licenses blanked out: "one in three"
    or "三分之一" for a source's "33%" or "a third", "33%" or "百分之三十三" for its "one in
    three", "3 of 5" for its "3/5" (`pair_key`). A share the source does not give stays, and
    its numbers are checked one by one."""
    chars = list(folded)
    spans = [
        m.span() for m, s in _exact_shares(folded) if share_key(*s.as_integer_ratio()) in allowed
    ]
    spans += [m.span() for m, p in _percentages(folded) if percent_key(p) in allowed]
    spans += [m.span() for m, key in _of_pairs(folded) if key in allowed]
    spans += [m.span() for m, key in _star_ratings(folded) if key in allowed]
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
