"""Dates in text, for the guardrails' numbers check: a date is compared whole, not as numbers.

Dates are spelled as ISO 8601 writes them, truncated where a part is missing: "2019-03-05",
"2019-03" (a month), "--03-05" (no year), "--03" (a month alone), "---05" (a day alone). So
"2019-03-05" is "March 5, 2019" and "2019年3月5日", "三月" is "in March", and the 3 of March
is no number elsewhere. A source is read liberally (every reading of every date it may give,
so that nothing it says fails); an output strictly, and only where a month word is a month:
"Theresa May said" and "Workers March 10 Miles" give no date.

Functions here take text already folded (NFKC, `numerals.fold`).
"""

from __future__ import annotations

import re

__all__ = ["blank_months", "dates_in", "output_dates", "zh_date_numerals"]

_MONTH_NAMES = """january february march april may june july august september october november
    december"""
_FULL_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES.split(), 1)}
_MONTHS = _FULL_MONTHS | {name[:3]: i for name, i in _FULL_MONTHS.items()} | {"sept": 9}
_MONTH = "|".join(f"{m.capitalize()}|{m.upper()}" for m in sorted(_MONTHS, key=len, reverse=True))
_ZH_DIGITS = dict(zip("〇零一二三四五六七八九", map(int, "00123456789"), strict=True))
# Numerals of a Chinese month or day: not 两 ("两月" is two months).
_ZH_NUMERAL = "[〇零一二三四五六七八九十]"
# Dates in digits (year first) and in Chinese: ISO dates, year-months ("2019-03": a range of
# years such as "2010-11" is none, see `_year_month`), "2019年3月5日", "三月", "5日" alone
# (not "5日元" yen, "3日内" within three days; "5号" alone is a number: "95号州际公路").
_DIGIT_DATE = re.compile(
    rf"(?=[\d{_ZH_NUMERAL[1:-1]}])(?<![\d.,〇零一二两兩三四五六七八九十百千万萬亿億第])(?:"
    r"(?<![/-])(?P<y>1\d{3}|2\d{3})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?![\d]|[.,/-]\d)"
    r"|(?<![/A-Za-z_-])(?P<iy>1\d{3}|2\d{3})[-/](?P<im>0[1-9]|1[0-2])(?![\d]|[.,/-]\d)"
    rf"|(?:(?P<zy>\d{{4}}|{_ZH_NUMERAL}{{4}})[ \t]*年[ \t]*)?"
    rf"(?P<zm>\d{{1,2}}|{_ZH_NUMERAL}{{1,3}})[ \t]*月"
    rf"(?:[ \t]*(?P<zd>\d{{1,2}}|{_ZH_NUMERAL}{{1,3}})[ \t]*[日号號])?"
    r"|(?P<sd>\d{1,2})[ \t]*日(?![元圆圓内內])"
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
# Dates only a source gives: day or month first ("5/3/2019": either), a month and day ("3/5").
_SHORT_DATE = re.compile(
    r"(?=\d)(?<![\d.,/-])(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{4}))?"
    r"(?![\d]|[.,/-]\d)"
)
# More days of a month a source names ("March 4-7", "March 4 and 7"), and days alone ("the 5th").
_MORE_DAYS = re.compile(r"[ \t]*(?:[-–]|to|and|&|or|through)[ \t]*(\d{1,2})(?!\d|[.,:]\d|%)")
_ORDINAL_DAY = re.compile(r"(?<![\d.,])(\d{1,2})(?:st|nd|rd|th)\b")
_YEARS = re.compile(r"(?=[12])(?<![\d.,])(?:1[6-9]\d\d|20\d\d)(?![\d.,]?\d)")

Reading = tuple[int | None, int | None, int | None]  # (year, month, day); None: not given


def _date(year: int | None, month: int | None, day: int | None) -> str | None:
    """A date as compared ("2019-03-05", "--03-05", "--03", "---05"); None for no valid one."""
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    if month is None:
        return None if day is None or year is not None else f"---{day:02d}"
    text = f"{month:02d}" if day is None else f"{month:02d}-{day:02d}"
    return f"--{text}" if year is None else f"{year}-{text}"


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
    return year, _number(m["zm"]), _number(m["zd"]) if m["zd"] else None


def _word_date(m: re.Match[str]) -> Reading:
    """(year, month, day) of a `_WORD_DATE` match."""
    day, year = m["d1"] or m["d2"], m["y1"] or m["y2"]
    month = _MONTHS[(m["m1"] or m["m2"]).lower()]
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


def output_dates(text: str) -> tuple[set[str], str]:
    """The dates an output gives ("2019-03-05", "2019年3月5日", "三月", "March 5", "in May",
    "2019-03"), and the text with them blanked out, so that their parts are not read as numbers.
    A month word that may be no month ("Theresa May", "they March 10 miles") gives none."""
    dates: set[str] = set()

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

    text = _DIGIT_DATE.sub(read, text)
    return dates, _WORD_DATE.sub(read, text)


def dates_in(text: str) -> set[str]:
    """Every date a source may give, in any format, as `output_dates` spells them, with its
    coarser forms ("2019-03-05" also gives "2019-03", "--03-05", "--03" and "---05"); one
    without a year ("on March 5") also with each year the source names."""
    found: set[Reading] = set()
    for m in _DIGIT_DATE.finditer(text):
        if (reading := _digit_date(m)) is not None:
            found.add(reading)
    for m in _WORD_DATE.finditer(text):
        year, month, day = _word_date(m)
        found.add((year, month, day))
        if day is not None and (more := _MORE_DAYS.match(text, m.end())):
            found.add((year, month, int(more[1])))  # "March 4-7": the 7th too
    for m in _SHORT_DATE.finditer(text):  # day or month first: both
        a, b, year = int(m["a"]), int(m["b"]), int(m["y"]) if m["y"] else None
        found |= {(year, a, b), (year, b, a)}
    found |= {(None, None, int(d)) for d in _ORDINAL_DAY.findall(text)}  # "on the 5th"
    years = {int(y) for y in _YEARS.findall(text)} | {y for y, _, _ in found if y}
    dates: set[str | None] = set()
    for year, month, day in found:
        dates |= {_date(year, month, day), _date(year, month, None)}
        dates |= {_date(None, month, day), _date(None, month, None), _date(None, None, day)}
    # Each month and day without a year (at most 12 x 32 of them) with each year, once.
    for month, day in {(month, day) for year, month, day in found if year is None and month}:
        dates |= {_date(y, month, d) for y in years for d in (day, None)}
    return {d for d in dates if d}


def _blank(text: str, groups: tuple[str, ...], *, with_day: bool) -> str:
    """`text` with these groups of each date `_DIGIT_DATE` reads blanked out; `with_day`:
    also in dates that give a day."""
    chars = list(text)
    for m in _DIGIT_DATE.finditer(text):
        if _digit_date(m) is not None and (with_day or not m["zd"]):
            for start, end in (m.span(g) for g in groups if m[g]):
                chars[start:end] = " " * (end - start)
    return "".join(chars)


def blank_months(text: str) -> str:
    """`text` with each month without a day in digits blanked out ("3月", "2019-03"), so that
    a source's month licenses no bare number: "3 people" is not in "3月". A month with a day
    stays: an output may write "9月11日" as "9/11", read there as numbers."""
    return _blank(text, ("im", "zm"), with_day=False)


def zh_date_numerals(text: str) -> str:
    """`text` with the months and days of Chinese dates blanked out ("三月五日": their numerals
    are no numbers); years stay ("二〇一九年": also a number in the source)."""
    return _blank(text, ("zm", "zd"), with_day=True)
