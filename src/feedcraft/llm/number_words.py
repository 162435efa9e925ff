"""The values of numbers in words and numerals, shared by the readers of numbers and shares.

English number words ("two hundred and fifty": `word_value`), Chinese numerals ("一亿两千万":
`zh_value`) and digits with separators (`normalise_number`); and how a share is compared
(`share_key`): the primitives `numerals` and `shares` both read with, kept apart so neither
imports the other's whole reading.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from decimal import Context, Decimal, InvalidOperation
from fractions import Fraction

__all__ = [
    "CARDINALS",
    "DIGITS",
    "EN_WORD_NUMBER",
    "ZH_DIGITS",
    "ZH_UNITS",
    "canonical",
    "normalise_number",
    "share_key",
    "word_value",
    "zh_value",
]

DIGITS = r"\d+(?:[.,]\d+)*"
_CARDINAL_WORDS = """one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty
    seventy eighty ninety hundred thousand million billion trillion"""
_CARDINAL_VALUES = [*range(1, 20), *range(20, 100, 10), 100, 1000, 10**6, 10**9, 10**12]
CARDINALS = dict(zip(_CARDINAL_WORDS.split(), _CARDINAL_VALUES, strict=True))
EN_WORD_NUMBER = "|".join(sorted(CARDINALS, key=len, reverse=True))
ZH_DIGITS = dict(zip("〇零一二两兩三四五六七八九", map(int, "0012223456789"), strict=True))
ZH_UNITS = dict(zip("十百千万萬亿億", (10, 100, 1000, 10**4, 10**4, 10**8, 10**8), strict=True))


def normalise_number(token: str) -> str:
    token = re.sub(r",(?=\d{3}(?:\D|$))", "", token)  # thousands separators
    return token.replace(",", ".").rstrip(".")


def canonical(number: str | Decimal) -> str:
    """One spelling per value: "1200" = "1,200" = "1200.0"; dates ("2004.11.13") as they are."""
    with suppress(InvalidOperation):
        value = Decimal(number)
        exact = Context(prec=max(28, len(value.as_tuple().digits)))  # no rounding on the way
        return format(value.normalize(exact), "f")
    return str(number)


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


def zh_value(digits: str | None, run: str) -> Decimal:
    """The value of "三百" (300), "一亿两千万" (120000000), "二〇〇四" (2004), "300万"; a digit
    right after a unit of 100 or more counts in the next lower place ("一万五" 15000, "三百五"
    350), as spoken; after 零 it does not ("一百零五" 105)."""
    if not digits and not any(c in ZH_UNITS for c in run):  # digit by digit: a year, a code
        return Decimal("".join(str(ZH_DIGITS[c]) for c in run))
    total = section = Decimal(0)
    digit = Decimal(normalise_number(digits)) if digits else Decimal(0)
    last_unit = 0  # the unit just before the current digit (0: none, or 零 between)
    for c in run:
        if c in ZH_DIGITS:
            digit = Decimal(ZH_DIGITS[c])
            last_unit = 0 if c in "〇零" else last_unit
            continue
        if (unit := ZH_UNITS[c]) < 10**4:
            section, digit = section + (digit or 1) * unit, Decimal(0)
        else:  # 万 adds its part; 亿 multiplies everything before it ("一万亿")
            part = (total if unit > 10**4 else Decimal(0)) + section + digit
            total = (total if unit == 10**4 else Decimal(0)) + (part or 1) * unit
            section = digit = Decimal(0)
        last_unit = unit
    if digit and last_unit >= 100 and run[-1] in ZH_DIGITS:  # "一万五": 5 in the thousands
        digit *= last_unit // 10
    return total + section + digit


def share_key(numerator: int, denominator: int) -> str:
    """How a fraction is compared: "a third", "two in six" and "33%" all give "share 1/3"."""
    share = Fraction(numerator, denominator)
    return f"share {share.numerator}/{share.denominator}"
