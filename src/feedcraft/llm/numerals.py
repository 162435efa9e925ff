"""Reading numbers out of text, for the guardrails' numbers and units checks.

Numbers come as digits ("1,200", "３"), English words ("twenty-five", "two hundred and fifty",
"4 billion"), Chinese numerals ("三百", "一亿两千万", "二〇〇四") or powers of ten ("1.5×10⁶");
ordinals as their number ("fifth", "twenty-first", "第十": `ordinal_numbers`), fractions in words
as a share ("two-thirds"). Every reader here returns values, so that "1,200", "1200.0" and "one
thousand two hundred" compare equal (`canonical`). Dates are no numbers: they are compared whole
(see `dates`). A footnote mark is no number ("2010¹": `read_superscripts`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import suppress
from decimal import ROUND_HALF_UP, Decimal, DecimalException, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

from feedcraft.llm.dates import (
    ZH_NOT_MONTHS,
    blank_months,
    dates_in,
    expand_years,
    output_dates,
    slash_pairs,
    zh_date_numerals,
)
from feedcraft.llm.number_words import (
    CARDINALS,
    DIGITS,
    EN_WORD_NUMBER,
    ZH_DIGITS,
    ZH_UNITS,
    canonical,
    normalise_number,
    share_key,
    word_value,
    zh_value,
)
from feedcraft.llm.safety import strip_invisible
from feedcraft.llm.shares import source_shares

__all__ = [
    "CARDINALS",
    "CURRENCY_CODES",
    "DIGITS",
    "EN_WORD_NUMBER",
    "ZH_DIGITS",
    "ZH_UNITS",
    "ZH_WORDS",
    "canonical",
    "drop_unit_powers",
    "expand_scales",
    "fold",
    "join_digit_groups",
    "largest_quantity",
    "normalise_number",
    "numbers_in",
    "ordinal_numbers",
    "output_dates",
    "read_powers",
    "read_superscripts",
    "round_half_up",
    "rounded",
    "source_dates",
    "source_numbers",
    "unscaled_numbers",
    "word_value",
    "written_numbers",
    "zh_checked",
    "zh_value",
]

_NUMBER = re.compile(DIGITS)
# Values past 10**100 are no quantity a text means (a run of 亿, a pasted digit string) and
# would cost megabytes to spell out: they are not read as numbers.
_MAX_EXPONENT = 100
# Ordinals by the cardinal each names ("fifth": "five", "twentieth": "twenty").
_ORDINALS = {"first": "one", "second": "two", "third": "three", "fifth": "five"}
_ORDINALS |= {"eighth": "eight", "ninth": "nine", "twelfth": "twelve"}
_ORDINALS |= {f"{w}th": w for w in CARDINALS if w.endswith(("four", "six", "n", "d"))}
_ORDINALS |= {f"{w[:-1]}ieth": w for w in CARDINALS if w.endswith("ty")}
_TENS = {w for w in CARDINALS if w.endswith("ty")}
_SCALES = {w for w, v in CARDINALS.items() if v >= 100}
# Source words that license a number alone ("three": 3; "fifth", and "fifths" of a fraction:
# 5); a scale word alone licenses nothing (not "a million").
_NUMBER_WORDS = {w: str(v) for w, v in CARDINALS.items() if v < 100} | {"zero": "0"}
_NUMBER_WORDS |= {"first": "1", "second": "2", "dozen": "12"}
_NUMBER_WORDS |= {
    f"{w}{s}": str(v)
    for w, c in _ORDINALS.items()
    if 3 <= (v := CARDINALS[c]) < 100
    for s in ("", "s")
}
# A number in words, or in digits with a scale word ("twenty-five", "two hundred and fifty",
# "4 billion"); "and" only after a scale word, so "five and ten" stays two numbers.
_EN_NUMBER = re.compile(  # digits as Decimal reads them: "1,200,000.5", not "2004.11.13"
    rf"(?:(?<![\d.,])\d+(?:,\d{{3}})*(?:\.\d+)?(?![\d.,]\d)|\b(?:{EN_WORD_NUMBER})s?)(?:(?:[ \t-]+"
    rf"|(?:(?<=hundred)|(?<=thousand)|(?<=million)|(?<=billion)|(?<=trillion))\s+and\s+)"
    rf"(?:{EN_WORD_NUMBER})s?)*\b"
)
# Ordinals in words (in lower case), with the number words before them: those of a compound
# ("twenty-first", "one hundred and first"), a fraction's numerator ("two-thirds", "a third of")
# or a count of their own ("five third-graders"): see `_read_ordinal`. At most six words
# before it: retrying every run of number words from each of its words would be quadratic.
_ORDINAL = re.compile(
    rf"(?=[a-z])\b(?:(?P<prefix>(?:{EN_WORD_NUMBER}|an?)(?:(?:[ \t-]+|[ \t]+and[ \t]+)"
    rf"(?:{EN_WORD_NUMBER})){{0,5}})(?P<sep>[ \t]+and[ \t]+|[ \t]*-[ \t]*|[ \t]+))?"
    rf"(?P<ordinal>{'|'.join(sorted(_ORDINALS, key=len, reverse=True))})(?P<plural>s)?\b"
)
_ANY_ORDINAL = re.compile("|".join(_ORDINALS))  # most texts have none: no need to try each word
# Ordinals that give no rank: "third party", "Third World", "third base", "sixth sense"; 第三方
# (third party), 第二天 (the next day).
_ORDINAL_IDIOMS = re.compile(
    r"third[ \t-]+(?:part(?:y|ies)|world|base(?:m[ae]n)?|person|wheel|rail)\b"
    r"|fifth[ \t-]+column|fourth[ \t-]+estate|sixth[ \t-]+sense|seventh[ \t-]+heaven"
    r"|eleventh[ \t-]+hour|第(?:三(?:方|者|世界)|二[天日])"
)
# What makes "a third" or "one third" a fraction: "of" after it, or the end of a clause.
_SHARE_END = re.compile(r"[ \t]+of\b|[ \t]*(?:[.,;:!?)]|$)")
# Digits only where a number starts, taken whole (atomic): retrying the digits and spaces from
# every position made a long list of numbers ("1000,1001,...") quadratic.
_ZH_NUMBER = re.compile(
    rf"(?:(?<![\d.,])((?>{DIGITS}))\s*)?([{''.join(ZH_DIGITS)}{''.join(ZH_UNITS)}]+)"
)
_ZH_ORDINAL = re.compile(rf"第[ \t]*([{''.join(ZH_DIGITS)}{''.join(ZH_UNITS)}]+)")
# Chinese numerals checked in an output: with a digit other than 一 or 零 ("三百", "二〇〇四"),
# 一 before a unit ("一百"), 十 leading ("十万"). Lone 一 and units are mostly words ("统一",
# "万一", "千万不要", "百姓", "十分", "零售"), two digits a range ("两三天"); nor these words
# (and those with a month inside that is none: 五月天, the band Mayday):
_ZH_CHECKED = re.compile(r"[二三四五六七八九两兩〇]|一[十百千万萬亿億]|^十.")
ZH_WORDS = re.compile(
    f"三明治|四分[卫衛]|五角大[楼樓]|四[处處]|四周|三角|八卦|二手|三星|{ZH_NOT_MONTHS}"
)
# Counts without a numeral, each with the least it means: "数千" (thousands), "上万" (ten
# thousand or more), "a dozen" (12), "dozens" (24 or more).
_ZH_VAGUE = re.compile(
    "成千上[万萬]|[数數几幾](?:十[万萬]|百[万萬]|千[万萬]|[十百千万萬亿億])|上(?:[百千万萬亿億])"
)
_DOZEN = re.compile(r"\b(?:(half an?|a|one) dozen|(dozens))\b", re.I)
# A lone 十, 百 or 千 is a number before a counter ("十人死亡", "连续十月": a month that is
# no date, see `dates`); elsewhere a word ("十分").
_ZH_COUNTER = {
    "十": "人个個名位年月天岁歲次家条條项項件只隻辆輛架艘座",
    "百": "人名位",
    "千": "人名位",
}
# A four-digit year is no count: "thousands" is not licensed by "in 2004".
_YEAR = re.compile(
    r"(?:\b(?P<word>in|since|of|by|from|until|to|during|year)[ \t]+|(?P<comma>,[ \t]*))?"
    r"(?<![\d.,])(?P<year>1[6-9]\d\d|20\d\d)(?![\d.,]?\d)(?P<end>[ \t]*(?:年|[^\w\s]|$))?",
    re.I,
)
# Thousands grouped by spaces ("12 000", "12\u202f000"), as French and SI style write them.
_SPACED_GROUPS = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+(?![\d.,]?\d)")
# ISO 4217 codes read as currencies next to a number ("CAD 20", "20 EUR", "AUD 5m"): only these,
# so that an upper-case word is none ("TOP 10", "ALL 20", "PHP 8", "COP26", "TRY 5 times").
_CODES = "USD EUR GBP CNY RMB JPY INR CAD AUD NZD HKD SGD TWD CHF KRW PKR MXN ARS CLP RUB SEK NOK"
CURRENCY_CODES = (*_CODES.split(), "DKK", "BRL", "ZAR", "ILS", "THB", "PLN")
# Scale suffixes after digits: "bn", "tn" and "mn" always; "m", "M", "k", "K" and "B" only
# after a currency ("$55m", "€5k"), since "5 m" alone is five metres (see `units`).
_CURRENCY = rf"(?:[A-Z]{{0,3}}\$|[€£¥₹₩]|\b(?:{'|'.join(CURRENCY_CODES)})[ \t]?)"
_SUFFIX = re.compile(
    rf"(?<![\w.,])(?P<cur>{_CURRENCY}[ \t]?)?(?P<num>(?>\d+(?:,\d{{3}})*(?:\.\d+)?))"
    r"[ \t]?(?P<suffix>bn|Bn|BN|tn|Tn|mn|Mn|MN|[mMkKB])\b"
)
_SUFFIX_WORDS = {"bn": "billion", "tn": "trillion", "mn": "million", "m": "million"}
_SUFFIX_WORDS |= {"k": "thousand", "b": "billion"}
# What makes the digits before it the mantissa of a larger number ("3.5 million", "1.5万").
_SCALED = re.compile(
    r"[ \t]?(?:(?i:hundred|thousand|million|billion|trillion)s?\b|千(?![米克瓦])|[万萬亿億])"
)

# An exponent after a unit symbol is part of the unit, no number: "km²", "m³", "m/s²" (NFKC
# folds them to "km2", "m3"). Lower-case symbols only: "M2", "G7" and "CO2" are names.
# (Each pattern here opens with a lookahead of its first characters: 10x faster on long text.)
_UNIT_POWER = re.compile(
    r"(?=[cdfkmsyKμ])(?<![A-Za-z])(?:[mcdk]?m|Km|μm|ft|mi|yd|(?<=/)s)(?P<power>[23])(?!\w)"
)
# Powers of ten, read before NFKC folds "10⁶" to "106": "10⁶", "10^6", "10⁻³", "1.5×10⁶",
# "1.5 x 10^6". Base 10 only, so a unit's exponent ("km²") and a footnote ("2010¹") are none.
_POWER = re.compile(
    r"(?=[\d])(?:(?<![\d.,])(?P<mantissa>\d+(?:\.\d+)?)[ \t]*[×xX*·⋅][ \t]*)?"
    r"(?<![\d.,A-WYZa-wyz_])10(?:\^[ \t]*(?P<caret>[-−]?\d{1,3})|(?P<sup>⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3}))"
    r"(?![\d⁰¹²³⁴⁵⁶⁷⁸⁹])"
)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻−", "0123456789--")
# Superscript digits left once powers of ten are read are footnote marks after a word, a number
# or closing punctuation ("2010¹", "Smith²", "in 2010.³"), which NFKC would glue on ("20101",
# "2010.3"); but for the exponent of a unit symbol ("km²", "m/s²": see `_UNIT_POWER`).
_FOOTNOTE = re.compile(r"(?<=[^\W_]|[)\].,;:!?'\"’”])[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
# Bracketed reference marks, as Wikipedia writes them, right after a word or punctuation:
# "in 2010.[1]", "Smith[2]", "[1–3]", "。[4]"; after a space "[12]" is a number in brackets.
_BRACKET_MARK = re.compile(
    r"(?<=[^\W_]|[)\].,;:!?'\"’”。，；：！？」』）］])[\[［]\d{1,3}(?:[-–,][ \t]?\d{1,3})*[\]］]"
)
_UNIT_SYMBOL = re.compile(r"(?:(?<![A-Za-z])(?:[mcdk]?m|Km|[μµ]m|ft|mi|yd)|/s)$")
# Powers of ten in E notation ("1e6", "2.5E-3"); not in a word or code ("S10e", "0x1e6").
_E_POWER = re.compile(
    r"(?=\d)(?<![\w.,])(?P<mantissa>\d+(?:\.\d+)?)[eE](?P<caret>[-+]?\d{1,3})(?!\w|[.,]\d)"
)
# Times: "5.30pm" is "5:30pm"; "5:30 pm" licenses 17 ("17:30") and "17:30" 5 ("5:30 pm").
_DOT_TIME = re.compile(r"(?<![\d.,])(\d{1,2})\.(\d\d)(?=[ \t]*[apAP]\.?[mM]\b)")
_CLOCK = re.compile(
    r"(?<![\d.,:])(?P<hour>\d{1,2})(?::(?P<minute>\d\d))?(?![\d]|[.,:]\d)"
    r"(?:[ \t]*(?P<half>[apAP])\.?[mM]\b)?"
)
# Decades: "the 1990s" licenses "'90s" and the reverse ("'20s": the 1920s or the 2020s).
_DECADE = re.compile(r"(?<![\d.,])(?:(?P<century>1[6-9]|20)|['’]|\b)(?P<decade>\d)0s\b")


def fold(text: str) -> str:
    """NFKC without invisible characters, which NFKC keeps ("da\u200bmn" must match "damn")."""
    return strip_invisible(unicodedata.normalize("NFKC", text or ""))


def read_powers(text: str) -> str:
    """`text` (not yet folded) with powers of ten as plain numbers: "1.5×10⁶" -> "1500000",
    "10⁻³" -> "0.001", "1e6" -> "1000000", so that they compare with "1.5 million" and "0.001"
    (`_POWER`, `_E_POWER`)."""

    def value(m: re.Match[str]) -> str:
        exponent = int((m["caret"] or m["sup"]).translate(_SUPERSCRIPTS))
        if abs(exponent) > _MAX_EXPONENT:
            return m[0]
        return canonical(Decimal(m["mantissa"] or 1).scaleb(exponent))

    return _E_POWER.sub(value, _POWER.sub(value, text))


def read_superscripts(text: str) -> str:
    """`text` (not yet folded) with its superscript digits read: powers of ten as numbers
    (`read_powers`), footnote marks left out ("2010¹" -> "2010 ", `_FOOTNOTE`; "2010.[1]",
    `_BRACKET_MARK`), so that they do not glue onto a number nor license one; a unit's
    exponent stays ("km²")."""
    powers = read_powers(text)

    def mark(m: re.Match[str]) -> str:
        start = m.start()
        unit = m[0] in ("²", "³") and _UNIT_SYMBOL.search(powers, max(0, start - 3), start)
        return m[0] if unit else " "

    return _BRACKET_MARK.sub(lambda m: " " * len(m[0]), _FOOTNOTE.sub(mark, powers))


def round_half_up(value: Decimal) -> Decimal:
    """`value` rounded to an integer, half up; exact at any size (quantize fails past 28
    digits)."""
    return value.to_integral_value(rounding=ROUND_HALF_UP)


def expand_scales(text: str) -> str:
    """Scale suffixes spelled out: "$55m" is "$55 million", "4bn" "4 billion" (see `_SUFFIX`)."""

    def spell(m: re.Match[str]) -> str:
        if len(m["suffix"]) == 1 and not m["cur"]:
            return m[0]
        return f"{m['cur'] or ''}{m['num']} {_SUFFIX_WORDS[m['suffix'].lower()]}"

    return _SUFFIX.sub(spell, text)


def numbers_in(text: str) -> set[str]:
    """Numbers written with digits, normalised ("1,000" = "1000"; fullwidth digits folded)."""
    text = drop_unit_powers(fold(read_superscripts(text)))
    return {normalise_number(m.group(0)) for m in _NUMBER.finditer(text)}


def join_digit_groups(text: str) -> str:
    """`text` with space-grouped thousands joined: "12 000 people" -> "12000 people". A space
    may also part two numbers ("on May 5 300 people"), so callers read text both ways."""
    return _SPACED_GROUPS.sub(lambda m: re.sub(r"\D", "", m[0]), text)


def drop_unit_powers(text: str) -> str:
    """`text` (folded) without the exponents of unit symbols: "5 km2" -> "5 km " (`_UNIT_POWER`)."""
    return _UNIT_POWER.sub(lambda m: m[0][: m.start("power") - m.start()] + " ", text)


@lru_cache(maxsize=64)
def largest_quantity(source: str) -> Decimal:
    """The largest count the source states, for vague outputs ("thousands", "数千"): years
    ("in 2004", "2004年", "2004.") and dates do not count. Cached: a task checks several
    candidates against one source."""
    text = drop_unit_powers(fold(read_superscripts(source)))
    years = {m.start("year") for m in _YEAR.finditer(text) if m["word"] or m["comma"] or m["end"]}
    values = [v for _, v, _, _ in written_numbers(text)]
    for m in _NUMBER.finditer(text):
        if m.start() not in years and m[0].count(".") < 2:  # nor a date ("2004.11.13")
            with suppress(InvalidOperation):
                values.append(Decimal(normalise_number(m[0])))
    return max(values, default=Decimal(0))


def unscaled_numbers(text: str) -> set[str]:
    """`numbers_in` less the digits that lead a scale word or suffix ("3.5 million", "1.5万",
    "$55m"): those are read whole by `written_numbers`, so "3.5 million" passes for "3,500,000"."""
    text = expand_years(_DOT_TIME.sub(r"\1:\2", fold(read_superscripts(text))))
    dates, text = output_dates(expand_scales(drop_unit_powers(text)))
    found = (m for m in _NUMBER.finditer(text) if not _SCALED.match(text, m.end()))
    return dates | {normalise_number(m.group(0)) for m in found}


def zh_checked(digits: str | None, run: str) -> bool:
    """Whether a Chinese numeral is read as a number in an output (see `_ZH_CHECKED`)."""
    pair = len(run) == 2 and all(c in ZH_DIGITS for c in run)
    return bool(digits) or (not pair and bool(_ZH_CHECKED.search(run)))


def written_numbers(text: str) -> Iterator[tuple[str, Decimal, bool, bool]]:
    """(as written, value, vague, checked) for every number written in words, Chinese numerals
    or digits with a scale word. "Hundreds" is vague: at least 100. Not checked in an output:
    a lone "one" ("one of the", "no one") and the Chinese numerals `_ZH_CHECKED` leaves out.
    Ordinals and fractions in words are read by `ordinal_numbers`, with their number words."""
    for m in _EN_NUMBER.finditer(_without_ordinals(expand_scales(text).lower())):
        words = [w for w in re.findall(r"[\d.,]+|[a-z]+", m.group(0)) if w != "and"]
        if words[-1][0].isdigit():  # digits alone: see numbers_in
            continue
        with suppress(DecimalException):
            value = word_value(words)
            vague = len(words) == 1 and words[0] not in CARDINALS  # "hundreds"
            if value.adjusted() <= _MAX_EXPONENT:
                yield m[0], value, vague, words != ["one"] and (not vague or value >= 100)
    for m in _DOZEN.finditer(text):
        half = m[1] and m[1].lower().startswith("half")
        yield m[0], Decimal(24 if m[2] else 6 if half else 12), bool(m[2]), True
    han = zh_date_numerals(ZH_WORDS.sub(" ", text))  # "三月五日" is a date, no numbers
    han = _ZH_ORDINAL.sub(lambda m: " " * len(m[0]), han)
    for m in _ZH_VAGUE.finditer(han):  # the least each means: 数千 1000, 数十万 100000
        yield m[0], zh_value(None, m[0].lstrip("数數几幾上成")[:2].rstrip("上")), True, True
    han = _ZH_VAGUE.sub(lambda m: " " * len(m[0]), han)
    for m in _ZH_NUMBER.finditer(han):
        with suppress(DecimalException):  # Overflow: a long run of 亿
            value = zh_value(m[1], m[2])
            counted = han[m.end() : m.end() + 1] in _ZH_COUNTER.get(m[2], "") if m[2] else False
            if value.adjusted() <= _MAX_EXPONENT:
                yield m[0].strip(), value, False, counted or zh_checked(m[1], m[2])


class _Ordinal(NamedTuple):
    """An ordinal or a fraction in words: where it is, with the number words it takes in, and
    what the source must give: a number (`canonical`) or a share (`share_key`)."""

    start: int
    end: int
    key: str
    checked: bool


def _read_ordinal(text: str, m: re.Match[str]) -> _Ordinal:
    """An `_ORDINAL` match in `text`: a compound ("twenty-first" 21, "one hundred and first"
    101, "two hundredth" 200), a fraction ("two-thirds", "three fifths", "a third of", "one
    tenth."), else the ordinal alone ("five third-graders": five is a count of its own, and
    "twenty seconds" twenty). "first" and "second" alone are unchecked (an adverb, a unit of
    time, a verb), as are idioms ("third party")."""
    words = [w for w in re.findall(r"[a-z]+", m["prefix"] or "") if w != "and"]
    words = words[1:] if len(words) > 1 and words[0] in ("a", "an") else words
    cardinal, plural, hyphen = _ORDINALS[m["ordinal"]], bool(m["plural"]), "-" in (m["sep"] or "")
    n, last = CARDINALS[cardinal], words[-1] if words else ""
    article = last in ("a", "an")
    tens = last in _TENS and n < 10 and hyphen  # "twenty-first"; "twenty first-time buyers": 20
    if n >= 3 and words and not tens and last not in _SCALES:
        numerator_joined = (plural or hyphen) and not article  # "two-thirds", "three fifths"
        alone = words in (["a"], ["an"], ["one"]) and not plural  # "a third of", "one third."
        if numerator_joined or (alone and _SHARE_END.match(text, m.end())):
            numerator = 1 if article else int(word_value(words))
            return _Ordinal(m.start(), m.end(), share_key(numerator, n), True)
    if not plural and not article and (tens or last in _SCALES or (words and cardinal in _SCALES)):
        return _Ordinal(m.start(), m.end(), canonical(word_value([*words, cardinal])), True)
    start = m.start("ordinal")
    return _Ordinal(start, m.end(), str(n), n >= 3 and not _ORDINAL_IDIOMS.match(text, start))


def _without_ordinals(lower: str) -> str:
    """`lower` with its ordinals and fractions in words blanked out, and the number words they
    take in, so that no cardinal is read in them ("twenty" in "twenty-first")."""
    chars = list(lower)
    for o in _ordinals(lower):
        chars[o.start : o.end] = " " * (o.end - o.start)
    return "".join(chars)


def _ordinals(lower: str) -> list[_Ordinal]:
    """The ordinals and fractions in words in `lower` (`_read_ordinal`)."""
    if not _ANY_ORDINAL.search(lower):
        return []
    return [_read_ordinal(lower, m) for m in _ORDINAL.finditer(lower)]


def ordinal_numbers(text: str) -> Iterator[tuple[str, str, bool]]:
    """(as written, value, checked) for each ordinal in words ("fifth": "5", "twenty-first",
    "第十") and each fraction in words ("two-thirds": "share 2/3", see `share_key`), which a
    source gives in any form ("5th", "five", "第五"; "two in three", "67%"). Ordinals in
    digits ("5th", "第5") are read as numbers. Unchecked, as words more often than numbers:
    "first", "second" and 第一 alone, idioms ("third party", 第二天: `_ORDINAL_IDIOMS`)."""
    lower = text.lower()
    for o in _ordinals(lower):
        yield lower[o.start : o.end], o.key, o.checked
    for m in _ZH_ORDINAL.finditer(text):
        run, idiom = m[1], bool(_ORDINAL_IDIOMS.match(text, m.start()))
        values: list[Decimal] = []
        if len(run) > 1 and not any(c in ZH_UNITS for c in run):  # 第三四名: third or fourth
            values = [Decimal(ZH_DIGITS[c]) for c in run]
        else:
            with suppress(DecimalException):  # Overflow: a long run of 亿
                values = [zh_value(None, run)]
        for value in values:
            if value.adjusted() <= _MAX_EXPONENT:
                yield m[0], canonical(value), value != 1 and not idiom


def rounded(value: Decimal, mantissa: Decimal) -> set[Decimal]:
    """`value` with its written decimal `mantissa` rounded down and half up, as a source
    licenses them: "$11.5bn" gives 11 and 12 billion, "13.5 km" 13 and 14 km."""
    return {value / mantissa * w for w in (int(mantissa), round_half_up(mantissa))}


def source_dates(source: str) -> set[str]:
    """Every date the source gives, in any format, as `output_dates` spells them (`dates_in`)."""
    return dates_in(fold(read_superscripts(source)))


def source_numbers(source: str) -> set[str]:
    """Every number the source licenses, in `canonical` spelling, its dates and its shares
    ("share 1/3": "a third", "one in three", "33%"; `_share`). The month of a date in digits
    or Chinese ("3月", "2019-03-05", "3/5") licenses no bare number; its year and day do ("in
    2019", "on the 5th"). A copy of `_source_numbers`, which is cached."""
    return set(_source_numbers(source))


@lru_cache(maxsize=64)
def _source_numbers(source: str) -> frozenset[str]:
    """`source_numbers`, kept per source: a task checks several candidates against one source,
    and reading a long one costs milliseconds."""
    folded = _DOT_TIME.sub(r"\1:\2", fold(read_superscripts(source)))
    numbers: set[str] = set()
    text = drop_unit_powers(blank_months(folded))
    found = {normalise_number(m[0]) for m in _NUMBER.finditer(text)}
    if (expanded := expand_years(text)) != text:  # "2019-20" licenses 2020, and 20
        found |= {normalise_number(m[0]) for m in _NUMBER.finditer(expanded)}
    for n in found:  # 2004.11.13 licenses its parts,
        parts = n.split(".")  # 13.5 only 13 and 14 (not 5)
        numbers |= {n, *parts} if len(parts) > 2 else {n, parts[0], str(round_half_up(Decimal(n)))}
    words = re.findall(r"[a-z]+", source.lower())
    numbers.update(_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS)
    for written, value, _, _ in written_numbers(folded):
        numbers.add(str(value))
        lead = re.match(rf"{DIGITS}(?= ?[a-z千万萬亿億])", written)
        if lead and "." in lead[0] and (mantissa := Decimal(normalise_number(lead[0]))):
            numbers |= {str(v) for v in rounded(value, mantissa)}  # "$11.5bn": "11 billion"
        numbers |= {str(value / u) for c, u in ZH_UNITS.items() if u >= 10**4 and c in written}
    ordinals = {key for _, key, _ in ordinal_numbers(folded)}
    worded = {key for key in ordinals if key.startswith("share ")}
    numbers |= _times_and_decades(folded) | ordinals | source_shares(folded.lower(), worded)
    canon = {canonical(n) for n in numbers}
    small = {int(n) for n in canon if n.isdigit() and len(n) <= 2}
    return frozenset(canon | slash_pairs(small) | dates_in(folded))


def _times_and_decades(text: str) -> set[str]:
    """Numbers a time or decade also gives: "5:30 pm" 17, "5 pm" 17 and 0 ("17:00"), "17:30" 5,
    "1990s" 90, "'90s" 1990."""
    numbers: set[str] = set()
    for m in _CLOCK.finditer(text):
        hour, half = int(m["hour"]), (m["half"] or "").lower()
        if half and not m["minute"]:
            numbers.add("0")  # "5 pm": "17:00"
        if half == "p" and hour < 12:
            numbers.add(str(hour + 12))
        elif half == "a" and hour == 12:
            numbers.add("0")
        elif m["minute"] and not half and 13 <= hour <= 23:
            numbers.add(str(hour - 12))
    for m in _DECADE.finditer(text):
        tens = int(m["decade"]) * 10
        numbers |= {str(tens)} if m["century"] else {str(1900 + tens), str(2000 + tens)}
    return numbers
