"""Dates in text, for the guardrails' numbers check: a date is compared whole, not as numbers.

Dates are spelled as ISO 8601 writes them, truncated where a part is missing: "2019-03-05",
"2019-03" (a month), "--03-05" (no year), "--03" (a month alone), "---05" (a day alone). So
"2019-03-05" is "March 5, 2019" and "2019年3月5日", "三月" is "in March", and the 3 of March
is no number elsewhere. A source is read liberally (every reading of every date it may give,
so that nothing it says fails); an output strictly, and only where a month word is a month:
"Theresa May said" and "Workers March 10 Miles" give no date, nor do words with a month
inside (五月天, the band Mayday). Dates with slashes ("9/11", "3/5/2019") are compared as
written (`_slash`): a source gives them with a date either reading names ("3/5" is 5 March to
an American reader, 3 May to a British, European or Chinese one), or with both numbers
("rated 4/5").

Functions here take text already folded (NFKC, `numerals.fold`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "MONTHS",
    "MONTH_NAMES",
    "ZH_NOT_MONTHS",
    "blank_months",
    "dates_in",
    "expand_years",
    "months_of",
    "output_dates",
    "slash_pairs",
    "zh_date_numerals",
]

#: The months' names in lower case, January first.
MONTH_NAMES = tuple(
    """january february march april may june july august september october november
    december""".split()  # noqa: SIM905
)
_FULL_MONTHS = {name: i for i, name in enumerate(MONTH_NAMES, 1)}
#: Month names and their abbreviations ("mar", "sept"), lower case, by number.
MONTHS = _FULL_MONTHS | {name[:3]: i for name, i in _FULL_MONTHS.items()} | {"sept": 9}
_MONTH = "|".join(f"{m.capitalize()}|{m.upper()}" for m in sorted(MONTHS, key=len, reverse=True))
_ZH_DIGITS = dict(zip("〇零一二三四五六七八九", map(int, "00123456789"), strict=True))
# Numerals of a Chinese month or day: not 两 ("两月" is two months).
_ZH_NUMERAL = "[〇零一二三四五六七八九十]"
#: Words with a numeral and 月 that name no month: the band Mayday (not 五月天气, May weather),
#: the Mayflower (not 五月花开, flowers open in May), ten months' pregnancy. Their numerals are
#: no numbers either (`numerals.ZH_WORDS`).
ZH_NOT_MONTHS = "五月天(?![气氣])|五月花(?![开開])|十月[怀懷]胎"
# A month or day after these is a count of them: 连续十月 (ten months in a row), 前三月 (the
# first three months), 近三月 (the last three), 为期3日 (lasting three days), 每三月 (every three);
# not 前 ending a word: 目前3月 (at present, in March), 此前, 之前, 提前, 以前, 年前.
_ZH_DURATION = "".join(f"(?<!{w})" for w in ["为期", "為期", "连续", "連續", "近", "每"]) + (
    "(?:(?<!前)|(?<=[目之此提以日年月天周週当當向眼面]前))"
)
# Dates in digits (year first) and in Chinese: ISO dates, year-months ("2019-03": a range of
# years such as "2010-11" is none, see `_year_month`), "2019年3月5日" ("19年3月": 2019), "三月",
# "5日" alone (not "5日元" yen, "3日内" within three days, "3日游" a three-day tour, "5日本游客"
# five Japanese tourists, "为期3日" lasting three days; "5号" alone is a number: "95号州际公路").
_DIGIT_DATE = re.compile(
    rf"(?=[\d{_ZH_NUMERAL[1:-1]}])(?<![\d.,〇零一二两兩三四五六七八九十百千万萬亿億第])(?:"
    r"(?<![/-])(?P<y>1\d{3}|2\d{3})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?![\d]|[.,/-]\d)"
    r"|(?<![/A-Za-z_-])(?P<iy>1\d{3}|2\d{3})[-/](?P<im>0[1-9]|1[0-2])(?![\d]|[.,/-]\d)"
    rf"|(?:(?P<zy>\d{{4}}|\d\d|{_ZH_NUMERAL}{{4}})[ \t]*年[ \t]*)?(?!{ZH_NOT_MONTHS})"
    rf"{_ZH_DURATION}(?P<zm>\d{{1,2}}|{_ZH_NUMERAL}{{1,3}})[ \t]*月"
    rf"(?:[ \t]*(?P<zd>\d{{1,2}}|{_ZH_NUMERAL}{{1,3}})[ \t]*[日号號])?"
    rf"|{_ZH_DURATION}"
    r"(?P<sd>\d{1,2})[ \t]*日(?![元圆圓内內游遊均间間本])"
    ")"
)
# Dates in words ("March 5, 2019", "5th of March", "March 2019", "May").
_WORD_DATE = re.compile(
    rf"(?=[\dJFMASOND])\b(?:(?P<m1>{_MONTH})\b\.?(?:[ \t]+(?P<d1>\d{{1,2}})(?!\d)(?:st|nd|rd|th)?)?"
    r"(?:,?[ \t]+(?P<y1>1\d{3}|2\d{3})\b)?"
    rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?(?P<m2>{_MONTH})\b\.?"
    r"(?:,?[ \t]+(?P<y2>1\d{3}|2\d{3})\b)?)"
)
# In an output, a month name with a day but no year is a date when a word like these comes
# before it ("on March 5 the vote", "the March 5 vote"), when nothing but punctuation follows
# ("on March 5."), when written as only dates are ("March 5th", "5th of March", "Mar. 5"), or
# when the month comes first and is no verb (not "Workers March 10 Miles", "Injuries Mar 5").
_DAY_CUE = re.compile(
    r"\b(?i:(on|by|since|until|till|through|from|before|after|between|and|of|the))[ \t]+$"
)
_WORD_AFTER = re.compile(r"[ \t]*[A-Za-z]")
_VERBS = {"march", "mar", "may"}
_DATE_FORM = re.compile(r"\d(?:st|nd|rd|th)\b|\bof\b|\.")
# A month name alone is a month after words like these ("in March", "last May", "mid-June");
# not before "'s" ("in May's cabinet") nor a capitalised word ("in March Madness").
_MONTH_CUE = re.compile(
    r"(?:\b(?i:in|since|until|till|through|during|from|last|next|this|early|late|of)[ \t]+"
    r"|\b(?i:mid|early|late)-)$"
)
_NOT_MONTH_AFTER = re.compile(r"['’]s\b|[ \t]+[A-Z][a-z]")
# Dates a source gives month and day first ("5/3/2019": either), a month and day ("3/5").
_SHORT_DATE = re.compile(
    r"(?=\d)(?<![\d.,/-])(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})"
    r"(?:(?P=sep)(?P<y>\d{4}|\d\d))?(?![\d]|[.,/-]\d)"
)
# Dates an output gives with slashes ("9/11", "3/5/2019", "9·11", "11-15-19", "13/3", day
# first), compared as `_slash`; not "I-35/80", "A1/2", "4-7" nor "3.5" (no year: a range, a
# decimal).
_SLASH_DATE = re.compile(
    r"(?=\d)(?<![A-Za-z\d_.,/·-])(?P<a>\d{1,2})(?:[/·](?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d\d))?"
    r"|(?P<sep>[-.])(?P<b2>\d{1,2})(?P=sep)(?P<y2>\d{4}|\d\d))(?![\d]|[.,/·-]\d)"
)
# Numbers in a source "a/b" that are no date: common fractions ("3 1/2", "1/4") and "24/7".
_FRACTIONS = {(1, 2), (1, 3), (2, 3), (1, 4), (3, 4), (1, 8), (3, 8), (5, 8), (7, 8), (24, 7)}
# More days of a month a source names ("March 4-7", "March 4 and 7"), before the month too
# ("4 to 7 March", "5 and 7 March"), in Chinese ("3月5日至7日", "3月5-7日"), and days alone.
_MORE_DAYS = re.compile(r"[ \t]*(?:[-–]|to|and|&|or|through)[ \t]*(\d{1,2})(?!\d|[.,:]\d|%)")
_DAYS_BEFORE = re.compile(
    r"(?<![\d.,])(\d{1,2})(?:st|nd|rd|th)?[ \t]*(?:[-–]|to|and|&|or|through)[ \t]*$"
)
_ZH_AND = "[至到~〜、和及或与與–—-]"
_ZH_FIRST_DAY = re.compile(rf"[ \t]*(\d{{1,2}})(?=[ \t]*{_ZH_AND})")  # "3月5-7日": the 5
_ZH_MORE_DAYS = re.compile(
    rf"[ \t]*{_ZH_AND}[ \t]*(\d{{1,2}}|{_ZH_NUMERAL}{{1,3}})(?![\d〇零一二三四五六七八九十])"
    rf"[ \t]*(?:[日号號]|(?={_ZH_AND}))"
)
# A day in Chinese numerals a source gives alone ("本月三日"; "三日游" is no day in an output,
# but a source may also mean one).
_ZH_DAY = re.compile(rf"(?<!{_ZH_NUMERAL})({_ZH_NUMERAL}{{1,3}})[ \t]*日")
# Ranges of years written short ("2019-20", "2005–09", "2019/20": 2019 to 2020); an end below
# the start's last two digits is a month ("2019-03", see `_year_month`), but for "1999-00".
_YEAR_RANGE = re.compile(
    r"(?=[12])(?<![\d.,/–-])(?P<start>1[6-9]\d\d|20\d\d)(?P<sep>[-–/])"
    r"(?P<end>\d\d)(?![\d]|[.,/–-]\d)"
)
# Fiscal years written short ("FY19", "FY 2019": 2019).
_FISCAL = re.compile(r"\b(?P<fy>FY|fy|Fy)(?P<sep>[ \t'’-]?)(?P<yy>\d\d)(?!\d)")
# Days of the week in Chinese ("周三", "星期三": Wednesday), no numbers; not "每周三次".
_WEEKDAY = re.compile(
    r"(?:星期|礼拜|禮拜|(?<!每)[周週])[一二三四五六日天](?![次天日回场場趟晚个個])"
)
_ORDINAL_DAY = re.compile(r"(?<![\d.,])(\d{1,2})(?:st|nd|rd|th)\b")
_YEARS = re.compile(r"(?=[12])(?<![\d.,])(?:1[6-9]\d\d|20\d\d)(?![\d.,]?\d)")

# The month of a date as spelled here (`months_of`).
_DATE_MONTH = re.compile(r"(?:\d{4}|-)-(\d\d)")

Reading = tuple[int | None, int | None, int | None]  # (year, month, day); None: not given


def _date(year: int | None, month: int | None, day: int | None) -> str | None:
    """A date as compared ("2019-03-05", "--03-05", "--03", "---05"); None for no valid one."""
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    if month is None:
        return None if day is None or year is not None else f"---{day:02d}"
    text = f"{month:02d}" if day is None else f"{month:02d}-{day:02d}"
    return f"--{text}" if year is None else f"{year}-{text}"


def _century(year: int) -> int:
    """A year written with two digits: "19" is 2019, "98" 1998."""
    return year + (2000 if year < 50 else 1900)


def _number(text: str) -> int:
    """A year, month or day in digits or Chinese numerals ("12", "十二", "二十一", "二〇一九")."""
    if text.isdigit():
        return int(text)
    if "十" not in text:  # digit by digit: "二〇一九"
        return int("".join(str(_ZH_DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    return _ZH_DIGITS.get(tens, 1) * 10 + _ZH_DIGITS.get(ones, 0)


def _year_month(m: re.Match[str]) -> bool:
    """Whether "YYYY-MM" is a month: "2019-03" is; "2010-11" and "2009-12" are seasons or
    ranges of years ("2009-12": 2009 to 2012), as is any whose MM could end a range."""
    return int(m["im"]) <= int(m["iy"]) % 100


def _digit_date(m: re.Match[str]) -> Reading | None:
    """(year, month, day) of a `_DIGIT_DATE` match; None for a range of years."""
    if m["y"]:
        return int(m["y"]), int(m["m"]), int(m["d"])
    if m["iy"]:
        return (int(m["iy"]), int(m["im"]), None) if _year_month(m) else None
    if m["sd"]:
        return None, None, int(m["sd"])
    year = _number(m["zy"]) if m["zy"] else None
    if year is not None and len(m["zy"]) == 2:  # "19年3月"
        year = _century(year)
    return year, _number(m["zm"]), _number(m["zd"]) if m["zd"] else None


def _word_date(m: re.Match[str]) -> Reading:
    """(year, month, day) of a `_WORD_DATE` match."""
    day, year = m["d1"] or m["d2"], m["y1"] or m["y2"]
    month = MONTHS[(m["m1"] or m["m2"]).lower()]
    return int(year) if year else None, month, int(day) if day else None


def _month_alone(text: str, m: re.Match[str]) -> bool:
    """Whether the month name that opens `m` (a full name) is a month in an output."""
    name = m["m1"]
    if not name or name.lower() not in _FULL_MONTHS:
        return False
    end = m.start() + len(name)
    return bool(_MONTH_CUE.search(text, max(0, m.start() - 12), m.start())) and not (
        _NOT_MONTH_AFTER.match(text, end)
    )


def _day_date(text: str, m: re.Match[str]) -> bool:
    """Whether a month name and day without a year is a date in an output (see `_DAY_CUE`)."""
    if not _WORD_AFTER.match(text, m.end()) or _DATE_FORM.search(m[0]):
        return True
    if m["m1"] and m["m1"].lower() not in _VERBS:
        return True  # "April 5 rally": a date
    if (cue := _DAY_CUE.search(text, max(0, m.start() - 8), m.start())) is None:
        return False
    return bool(m["m1"]) or cue[1].lower() != "the"  # not "the 10 May releases"


def _slash(month: int, day: int, year: int | None) -> set[str]:
    """How an output may write a date with slashes, as `output_dates` spells it: month first
    ("9/11", "3/5/2019") or day first ("11/9", "5/3/2019"), so that an output's "3/5" passes
    for 5 March and for 3 May; one of them only where the other is no date ("13/5")."""
    if _date(year, month, day) is None:
        return set()
    return {f"{form}/{year}" if year else form for form in (f"{month}/{day}", f"{day}/{month}")}


def slash_pairs(numbers: set[int]) -> set[str]:
    """Every "a/b" an output may write as a date (`_slash`) with two numbers a source gives as
    numbers: "4/5" was read as 4 and 5 before it was read as a date ("rated 4/5")."""
    small = sorted(n for n in numbers if 1 <= n <= 31)
    return {f"{a}/{b}" for a in small for b in small if _slash(a, b, None) or _slash(b, a, None)}


def _slash_date(m: re.Match[str]) -> str | None:
    """The `_slash` spelling of a `_SLASH_DATE` match, read either way; None where it is no
    date."""
    a, b, y = int(m["a"]), int(m["b"] or m["b2"]), m["y"] or m["y2"]
    year = (int(y) if len(y) == 4 else _century(int(y))) if y else None
    if not (_slash(a, b, year) or _slash(b, a, year)):
        return None
    return f"{a}/{b}/{year}" if year else f"{a}/{b}"


def output_dates(text: str) -> tuple[set[str], str]:
    """The dates an output gives ("2019-03-05", "2019年3月5日", "三月", "March 5", "in May",
    "2019-03", "9/11"), and the text with them blanked out, so that their parts are not read as
    numbers. A month word that may be no month ("Theresa May", "they March 10 miles") gives
    none. "9/11" is compared as written: a source licenses it with a date either reading names
    (11 September, 9 November) or with both numbers."""
    dates: set[str] = set()

    def slash(m: re.Match[str]) -> str:
        if (date := _slash_date(m)) is None:
            return m[0]
        dates.add(date)
        return " " * len(m[0])

    def read(m: re.Match[str]) -> str:
        reading = _digit_date(m) if m.re is _DIGIT_DATE else _word_date(m)
        if reading is None:
            return m[0]
        year, month, day = reading
        if m.re is _WORD_DATE and year is None and (day is None or not _day_date(text, m)):
            if not _month_alone(text, m):
                return m[0]
            dates.add(f"--{month:02d}")  # "in May 5 people": the month; the 5 a number
            return " " * len(m["m1"]) + m[0][len(m["m1"]) :]
        if (date := _date(year, month, day)) is None:
            return m[0]
        dates.add(date)
        return " " * len(m[0])

    text = _SLASH_DATE.sub(slash, _DIGIT_DATE.sub(read, text))
    return dates, _WORD_DATE.sub(read, text)


def dates_in(text: str) -> set[str]:
    """Every date a source may give, in any format, as `output_dates` spells them, with its
    coarser forms ("2019-03-05" also gives "2019-03", "--03-05", "--03" and "---05"); one
    without a year ("on March 5") also with each year the source names."""
    found: set[Reading] = set()
    for m in _DIGIT_DATE.finditer(text):
        if (reading := _digit_date(m)) is not None:
            found.add(reading)
            year, month, _ = reading
            found |= {(year, month, day) for day in _zh_more_days(text, m)}  # "3月5日至7日"
    for m in _WORD_DATE.finditer(text):
        year, month, day = _word_date(m)
        found.add((year, month, day))
        if day is not None and (more := _MORE_DAYS.match(text, m.end())):
            found.add((year, month, int(more[1])))  # "March 4-7": the 7th too
        if m["d2"] and (first := _DAYS_BEFORE.search(text, max(0, m.start() - 16), m.start())):
            found.add((year, month, int(first[1])))  # "4 to 7 March": the 4th too
    for m in _SHORT_DATE.finditer(text):  # day or month first: both
        a, b, year = int(m["a"]), int(m["b"]), _short_year(m)
        found |= {(year, a, b), (year, b, a)}
    found |= {(None, None, int(d)) for d in _ORDINAL_DAY.findall(text)}  # "on the 5th"
    found |= {(None, None, _number(d)) for d in _ZH_DAY.findall(text)}  # "本月三日"
    years = {int(y) for y in _YEARS.findall(text)} | {y for y, _, _ in found if y}
    # Each month and day without a year (at most 12 x 32 of them) with each year, once.
    for month, day in {(month, day) for year, month, day in found if year is None and month}:
        found |= {(y, month, d) for y in years for d in (day, None)}
    dates: set[str | None] = set()
    for year, month, day in found:
        dates |= {_date(year, month, day), _date(year, month, None)}
        dates |= {_date(None, month, day), _date(None, month, None), _date(None, None, day)}
        if month and day:
            dates |= _slash(month, day, year) | _slash(month, day, None)
    return {d for d in dates if d}


def _short_year(m: re.Match[str]) -> int | None:
    """The year of a `_SHORT_DATE` match ("3/5/19": 2019)."""
    if not m["y"]:
        return None
    return _century(int(m["y"])) if len(m["y"]) == 2 else int(m["y"])


def _zh_more_days(text: str, m: re.Match[str]) -> list[int]:
    """More days of the month a Chinese date names: "3月5日至7日", "3月5-7日", "3月5、6日"."""
    if not m["zm"]:
        return []
    days: list[int] = []
    end = m.end()
    if not m["zd"]:
        if (first := _ZH_FIRST_DAY.match(text, end)) is None:
            return []
        days.append(int(first[1]))
        end = first.end()
    while more := _ZH_MORE_DAYS.match(text, end):
        days.append(_number(more[1]))
        end = more.end()
    return days if len(days) > int(not m["zd"]) else []


def _blank(text: str, groups: tuple[str, ...]) -> str:
    """`text` with these groups of each date `_DIGIT_DATE` reads blanked out."""
    chars = list(text)
    for m in _DIGIT_DATE.finditer(text):
        if _digit_date(m) is not None:
            for start, end in (m.span(g) for g in groups if m[g]):
                chars[start:end] = " " * (end - start)
    return "".join(chars)


def blank_months(text: str) -> str:
    """`text` with each month in digits blanked out ("3月", "11月13日", "2019-03-05",
    "03/05/2019", "9/11": each number of it that may be the month), so that a source's month
    licenses no bare number: "11 people" is not in "11月13日" nor in "9/11". Days and years stay
    ("on the 13th", "in 2019"); an output's "9/11" is read as a date (`output_dates`)."""
    chars = list(_blank(text, ("m", "im", "zm")))
    for m in _SHORT_DATE.finditer(text):
        a, b, year = int(m["a"]), int(m["b"]), _short_year(m)
        if year is None and (m["sep"] != "/" or (a, b) in _FRACTIONS):
            continue  # "3.5", "4-7" and "1/2" are numbers
        if _date(year, a, b) or _date(year, b, a):
            for group, value in (("a", a), ("b", b)):
                if value <= 12:
                    start, end = m.span(group)
                    chars[start:end] = " " * (end - start)
    return "".join(chars)


def zh_date_numerals(text: str) -> str:
    """`text` with the months and days of Chinese dates blanked out ("三月五日": their numerals
    are no numbers), and days of the week ("周三", "星期三": Wednesday, no 3); years stay
    ("二〇一九年": also a number in the source)."""
    text = _WEEKDAY.sub(lambda m: " " * len(m[0]), text)
    return _blank(text, ("zm", "zd"))


def _range_end(m: re.Match[str]) -> int | None:
    """The last year of a `_YEAR_RANGE` match ("2019-20": 2020, "1999-00": 2000); None for a
    year-month ("2019-03")."""
    start, end = int(m["start"]), int(m["end"])
    if end > start % 100:
        return start - start % 100 + end
    return start + 1 if end == (start + 1) % 100 else None


def expand_years(text: str) -> str:
    """`text` with years written short spelled whole: ranges ("2019-20" -> "2019-2020",
    "2005-09" -> "2005-2009") and fiscal years ("FY19" -> "FY2019"), so that they compare with
    a source that writes them whole, and the reverse."""

    def year_range(m: re.Match[str]) -> str:
        end = _range_end(m)
        return m[0] if end is None else f"{m['start']}{m['sep']}{end}"

    def fiscal(m: re.Match[str]) -> str:
        return f"{m['fy']}{m['sep']}{_century(int(m['yy']))}"

    return _FISCAL.sub(fiscal, _YEAR_RANGE.sub(year_range, text))


def months_of(dates: Iterable[str]) -> set[int]:
    """The months of dates as this module spells them ("2019-03-05", "2019-03", "--03-05",
    "--03"; not a day alone, "---05")."""
    found = (_DATE_MONTH.match(d) for d in dates)
    return {int(m[1]) for m in found if m}
