"""Numbers with units ("28 litres", "a 5-mile race", "$20", "20美元"), for the numbers check.

A check of bare numbers passes "a 28-inch backpack" written from `capacity_l: 28`, or "a
5-mile race" from "a 5 km race": the 28 and the 5 are in the source. So a number the output
gives with a unit must come with a unit the source gives that same number with. Aliases share
a canonical unit ("km" = "kilometres" = "公里"), so a respelling passes; another unit of the
same dimension (km and mile, litre and gallon, dollar and euro) fails like one of another
dimension, since converting would have changed the number. Conservative on purpose, so that
faithful news summaries keep passing: only listed units count (an unknown word after a number
is not a unit: "28 people" is a bare number), years and ordinals are never quantities, and a
number the source gives only bare licenses any unit (nothing says which one is meant).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal, DecimalException
from functools import lru_cache

from feedcraft.llm.numerals import (
    CURRENCY_CODES,
    EN_WORD_NUMBER,
    ZH_WORDS,
    canonical,
    fold,
    normalise_number,
    read_powers,
    rounded,
    word_value,
    zh_checked,
    zh_value,
)

__all__ = ["Quantity", "dimension", "quantities_in", "same_unit", "unit_mismatches"]


def _power(prefix: str, word: str, short: str) -> str:
    """Aliases of an area or volume unit: "square_metre square_metres square_m square_meter..."
    (spaces as "_")."""
    forms = [word, f"{word}s", short]
    if word.endswith("metre"):
        forms += [f"{word[:-2]}er", f"{word[:-2]}ers"]
    return " ".join(f"{prefix}_{form}" for form in forms)


def _square(word: str, short: str) -> str:
    return f"sq_{short} sq._{short} {_power('square', word, short)}"


def _cubic(word: str, short: str) -> str:
    return _power("cubic", word, short)


# Canonical unit -> its dimension and aliases. Aliases of 3 ASCII characters or fewer match
# case-sensitively ("5G" is a network, not grams; "m" only after a space: "£5m" is a million);
# longer ones in any case. Chinese aliases also match in Traditional characters.
_TABLE = {
    "millimetre": ("length", "mm millimetre millimetres millimeter millimeters 毫米"),
    "centimetre": ("length", "cm centimetre centimetres centimeter centimeters 厘米 公分"),
    "metre": ("length", "m metre metres meter meters 米 公尺"),
    "kilometre": ("length", "km Km KM kilometre kilometres kilometer kilometers 公里 千米"),
    "inch": ("length", "inch inches 英寸 吋"),
    "foot": ("length", "ft Ft foot feet 英尺 英呎"),
    "mile": ("length", "mi mile miles 英里"),
    "yard": ("length", "yd yds yard yards"),
    "microgram": ("mass", "mcg μg microgram micrograms microgramme microgrammes 微克"),
    "milligram": ("mass", "mg milligram milligrams milligramme milligrammes 毫克"),
    "gram": ("mass", "g gram grams gramme grammes 克"),
    "kilogram": ("mass", "kg Kg KG kilo kilos kilogram kilograms kilogramme kilogrammes 公斤 千克"),
    "tonne": ("mass", "tonne tonnes ton tons 吨 公吨"),
    "lb": ("mass", "lb Lb LB lbs Lbs LBS 磅"),
    "ounce": ("mass", "oz Oz ounce ounces 盎司"),
    "millilitre": ("volume", "ml mL millilitre millilitres milliliter milliliters 毫升"),
    "litre": ("volume", "l L litre litres liter liters 升 公升"),
    "gallon": ("volume", "gal gallon gallons 加仑"),
    "barrel": ("volume", "barrel barrels"),
    "teaspoon": ("volume", "tsp teaspoon teaspoons"),
    "tablespoon": ("volume", "tbsp Tbsp tablespoon tablespoons"),
    # "km²" folds to "km2" (NFKC), its exponent no number (`numerals.drop_unit_powers`).
    "square kilometre": (
        "area",
        f"km2 Km2 {_square('kilometre', 'km')} 平方公里 平方千米",
    ),
    "square mile": ("area", f"mi2 {_square('mile', 'mi')} 平方英里"),
    "square metre": ("area", f"m2 {_square('metre', 'm')} 平方米 平方公尺"),
    "square centimetre": ("area", f"cm2 {_square('centimetre', 'cm')} 平方厘米"),
    "square foot": ("area", "ft2 sq_ft sq._ft square_foot square_feet 平方英尺 平方呎"),
    "cubic metre": ("volume", f"m3 {_cubic('metre', 'm')} 立方米 立方公尺"),
    "cubic centimetre": ("volume", f"cm3 cc {_cubic('centimetre', 'cm')} 立方厘米"),
    "cubic kilometre": ("volume", f"km3 {_cubic('kilometre', 'km')} 立方公里"),
    "cubic foot": ("volume", "ft3 cubic_foot cubic_feet 立方英尺"),
    "hectare": ("area", "ha hectare hectares 公顷"),
    "acre": ("area", "acre acres 英亩"),
    "second": ("time", "sec Sec secs Secs second seconds 秒 秒钟"),
    "minute": ("time", "min Min mins Mins minute minutes 分钟"),
    "hour": ("time", "h hr Hr hrs Hrs hour hours 小时 个小时 钟头"),
    "day": ("time", "day days 天"),
    "week": ("time", "week weeks 周 个星期"),
    "month": ("time", "month months 个月"),
    "year": ("time", "yr Yr yrs Yrs year years 年 岁"),
    "decade": ("time", "decade decades"),
    "km/h": ("speed", "km/h kph Kph KPH kmh kilometres_per_hour kilometers_per_hour 公里/小时"),
    "mph": ("speed", "mph Mph MPH miles_per_hour"),
    "dollar": ("money", "$ US$ USD CAD AUD NZD HKD SGD TWD dollar dollars 美元 美金 港元 港币"),
    "euro": ("money", "€ EUR euro euros 欧元"),
    "gbp": ("money", "GBP sterling 英镑"),
    "pound": ("money", "£ pound pounds"),  # money or mass: see `_ALIKE`
    "yuan": ("money", "RMB CNY yuan renminbi 元 人民币"),
    "yen": ("money", "JPY yen 日元 日圆"),
    "¥": ("money", "¥"),  # yen or yuan
    "cent": ("money", "cent cents 美分"),
    "rupee": ("money", "₹ Rs Rs. INR PKR rupee rupees 卢比"),
    "franc": ("money", "CHF franc francs 瑞士法郎 法郎"),
    "won": ("money", "₩ KRW 韩元"),
    "peso": ("money", "MXN ARS CLP peso pesos 比索"),
    "rouble": ("money", "RUB rouble roubles ruble rubles 卢布"),
    "krona": ("money", "SEK NOK DKK krona kronor krone kroner 克朗"),
    "real": ("money", "BRL reais 雷亚尔"),  # not "real": "5 real reasons"
    "rand": ("money", "ZAR rand 兰特"),
    "shekel": ("money", "ILS shekel shekels 谢克尔"),
    "baht": ("money", "THB baht 泰铢"),
    "zloty": ("money", "PLN zloty zlotys 兹罗提"),
    "percent": ("percent", "% pct percent per_cent percentage_point percentage_points 百分点"),
    "kilobyte": ("data", "KB kB kilobyte kilobytes"),
    "megabyte": ("data", "MB megabyte megabytes"),
    "gigabyte": ("data", "GB gigabyte gigabytes"),
    "terabyte": ("data", "TB terabyte terabytes"),
    "hertz": ("frequency", "Hz hertz 赫兹"),
    "kilohertz": ("frequency", "kHz kilohertz"),
    "megahertz": ("frequency", "MHz megahertz 兆赫"),
    "gigahertz": ("frequency", "GHz gigahertz"),
    "watt": ("power", "W watt watts 瓦 瓦特"),
    "kilowatt": ("power", "kW kilowatt kilowatts 千瓦"),
    "megawatt": ("power", "MW megawatt megawatts 兆瓦"),
    "gigawatt": ("power", "GW gigawatt gigawatts"),
    "horsepower": ("power", "hp horsepower 马力"),
    "mAh": ("charge", "mAh 毫安 毫安时"),
    "watt-hour": ("energy", "Wh watt-hour watt-hours"),
    "kilowatt-hour": ("energy", "kWh kilowatt-hour kilowatt-hours 千瓦时"),
    "calorie": ("energy", "kcal calorie calories 卡路里 大卡"),
    "celsius": ("temperature", "°C ° C degrees_celsius degree_celsius 摄氏度"),
    "fahrenheit": ("temperature", "°F degrees_fahrenheit degree_fahrenheit 华氏度"),
    "degree": ("temperature", "° degree degrees"),  # Celsius or Fahrenheit: see `_ALIKE`
}
# Units an ambiguous one may stand for: a source's "£5" licenses "5 pounds" and "5 英镑".
_ALIKE = {"pound": {"gbp", "lb"}, "¥": {"yen", "yuan"}, "degree": {"celsius", "fahrenheit"}}
# Words that start with a unit but are none: "5周年" (5th anniversary), "80年代" (the 80s).
_NOT_UNITS = "周年 年代 年级 年度 克拉 元素 升级"
# Attribute keys end in a unit after "_" or in brackets (`capacity_l`, `screen (in)`); these
# suffixes mean more there than in prose, where "in" and "w" are words.
_KEY_SUFFIXES = {"in": "inch", "inch": "inch", "w": "watt", "mah": "mAh", "pct": "percent"}
_TRADITIONAL = str.maketrans("时钟个币镑圆仑吨厘欧卢顷亩点摄华岁级周头",
                             "時鐘個幣鎊圓侖噸釐歐盧頃畝點攝華歲級週頭")  # fmt: skip


def _aliases() -> tuple[dict[str, str], list[str], list[str], list[str]]:
    """Alias -> unit (lower-cased where matched in any case), and the aliases matched exactly,
    in any case, and in Han script (Simplified and Traditional)."""
    unit_of: dict[str, str] = {}
    exact: list[str] = []
    any_case: list[str] = []
    han: list[str] = []
    for unit, (_, aliases) in _TABLE.items():
        for alias in (a.replace("_", " ") for a in aliases.split()):
            for v in {alias, alias.translate(_TRADITIONAL)}:
                if not v.isascii() and v[0] not in "$€£¥₹₩°%μ":
                    han.append(v)
                elif len(v) <= 3 or (not v.isalpha() and len(v) <= 4):
                    exact.append(v)
                else:
                    any_case.append(v)
                    v = v.lower()
                unit_of[v] = unit
    return unit_of, exact, any_case, han


_UNIT_OF, _EXACT, _ANY_CASE, _HAN = _aliases()
_NOT = [w for u in _NOT_UNITS.split() for w in {u, u.translate(_TRADITIONAL)}]
_KEY_UNITS = {a.lower(): u for a, u in _UNIT_OF.items() if a.isascii()} | _KEY_SUFFIXES


def _alternation(words: list[str]) -> str:
    """Longest first, so that "km/h" wins over "km" and "美元" over "元"; spaces may be runs."""
    return "|".join(re.escape(w).replace(r"\ ", r"[ \t]+") for w in sorted(words, key=len)[::-1])


_UNIT = (
    rf"(?P<unit>(?P<not>{_alternation(_NOT)})|{_alternation(_HAN)}|"
    rf"(?i:{_alternation(_ANY_CASE)})(?![a-zA-Z\d])|(?:{_alternation(_EXACT)})(?![a-zA-Z\d]))"
)
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_SCALES |= {"bn": 10**9, "mn": 10**6, "m": 10**6, "k": 10**3}  # "m", "k" after a currency only
_ZH_RUN = "(?:千(?![米克瓦])|[〇零一二两兩三四五六七八九十百万萬亿億])+"  # 千米 is km, not 1000 m
_NUMBER = (  # digits (with a scale word), English number words or Chinese numerals
    r"(?P<digits>(?<![A-Za-z\d_:/#第-])(?<!\d[.,])\d+(?:,\d{3})*(?:\.\d+)?)(?![.,:/]?\d)"
    r"(?:[ \t]?(?P<scale>(?i:thousand|million|billion|trillion)\b|bn\b|mn\b"
    r"|(?<=\d)[mk]\b(?(cur)|(?!)))|(?P<zhscale>(?:千(?![米克瓦])|[万萬亿億])+))?"
    rf"|(?i:\b(?P<words>(?:{EN_WORD_NUMBER})(?:(?:[ \t-]+|(?:(?<=hundred)|(?<=thousand)"
    rf"|(?<=million)|(?<=billion))[ \t]+and[ \t]+)(?:{EN_WORD_NUMBER}))*)\b)"
    rf"|(?<!第)(?P<zh>{_ZH_RUN})"
)
_CODE = rf"\b(?:Rs\.?|{'|'.join(CURRENCY_CODES)})(?=[ \t]?\d)"  # "CAD 20", not "TOP 10"
_QUANTITY = re.compile(
    rf"百分之(?P<pct>\d+(?:\.\d+)?|{_ZH_RUN})"
    rf"|(?:(?P<cur>(?:US|HK|NZ|A|C|S)?\$|[€£¥₹₩]|{_CODE})[ \t]?)?"
    rf"(?:{_NUMBER})"
    rf"(?(cur)|(?:[ \t]?-?[ \t]?{_UNIT})?)"
)
# Attribute lines as tasks write them: "- capacity_l: 28", "Screen (in): 15.6". One
# variable part before the colon, then the key's end apart: nested runs of spaces were cubic.
_KEY_LINE = re.compile(r"^(?P<key>[^\n:：]*)[:：](?P<value>[^\n]*)$", re.M)
_KEY_UNIT = re.compile(r"(?:_(?P<suffix>[A-Za-z]+)|\((?P<bracket>[^()\n]+)\))[ \t]*$")
_BARE = re.compile(r"(?<![A-Za-z\d_:/#-])(?<!\d[.,])\d+(?:,\d{3})*(?:\.\d+)?(?![.,:/]?\d)")


@dataclass(frozen=True)
class Quantity:
    """A number with a canonical unit; `value` in the numbers check's `canonical` spelling."""

    value: str
    unit: str
    written: str


def dimension(unit: str) -> str:
    """What a canonical unit measures ("mile": "length"), for messages and grouping."""
    return _TABLE[unit][0]


def same_unit(a: str, b: str) -> bool:
    """Equal canonical units, or an ambiguous one and a unit it may stand for ("£" ~ "gbp")."""
    return a == b or b in _ALIKE.get(a, ()) or a in _ALIKE.get(b, ())


def _value(m: re.Match[str]) -> Decimal | None:
    """The number a `_QUANTITY` match gives, None when it is not read as one (a lone "one",
    a Chinese numeral the numbers check leaves alone, vague "hundreds")."""
    if m["pct"] is not None:
        digits = m["pct"][0].isdigit()
        return Decimal(m["pct"]) if digits else zh_value(None, m["pct"])
    if m["digits"] is not None:
        value = Decimal(normalise_number(m["digits"]))
        scale = (m["scale"] or "").lower()
        if m["zhscale"]:
            return zh_value(m["digits"], m["zhscale"])
        return value * _SCALES[scale] if scale else value
    if m["words"] is not None:
        words = [w for w in re.findall(r"[a-z]+", m["words"].lower()) if w != "and"]
        return None if words == ["one"] else word_value(words)
    run = m["zh"]
    return zh_value(None, run) if zh_checked(None, run) else None


def _unit(m: re.Match[str]) -> str | None:
    if m["pct"] is not None:
        return "percent"
    if m["cur"]:
        return _UNIT_OF.get(m["cur"], "dollar")  # "HK$", "A$"
    if m["unit"] is None or m["not"] is not None:
        return None
    alias = m["unit"]
    if alias == "m" and not m[0][: -len(alias)].endswith(" "):
        return None  # "5m" is as often five million as five metres
    return _UNIT_OF.get(alias) or _UNIT_OF.get(re.sub(r"[ \t]+", " ", alias).lower())


def quantities_in(text: str) -> Iterator[Quantity]:
    """Every number written with a unit in `text` (digits, words or Chinese numerals)."""
    text = ZH_WORDS.sub(lambda m: " " * len(m[0]), fold(read_powers(text)))
    for m in _QUANTITY.finditer(text):
        unit = _unit(m)
        with suppress(DecimalException):  # Overflow: a long run of 亿
            value = _value(m) if unit else None
            if value is None or unit is None:
                continue
            written = m["digits"] or m["pct"] or m["zh"] or ""
            if unit == "year" and 1000 <= value < 3000 and len(written) == 4:
                continue  # a date: "2004年", not two thousand years
            yield Quantity(canonical(value), unit, m[0].strip())


def _key_quantities(text: str) -> Iterator[Quantity]:
    """Bare numbers in attribute values whose key names a unit: `capacity_l: 28` is 28 litres."""
    for line in _KEY_LINE.finditer(fold(read_powers(text))):
        if (key := _KEY_UNIT.search(line["key"])) is None:
            continue
        suffix = (key["suffix"] or key["bracket"] or "").strip().lower()
        unit = _KEY_UNITS.get(suffix)
        if unit is None:
            continue
        value = line["value"]
        own = [m.span() for m in _QUANTITY.finditer(value) if m["unit"] or m["cur"]]
        for n in _BARE.finditer(value):
            if not any(a <= n.start() < b for a, b in own):
                yield Quantity(canonical(normalise_number(n[0])), unit, n[0])


@lru_cache(maxsize=64)
def _source_units(source: str) -> Mapping[str, frozenset[str]]:
    """Value -> the units the source gives it with; "13.5 km" also gives 13 and 14 km, as the
    numbers check licenses rounding ("$11.5bn": 11 and 12 billion dollars). Cached: a task
    checks several candidates against one source."""
    units: dict[str, set[str]] = {}
    for q in (*quantities_in(source), *_key_quantities(source)):
        value = Decimal(q.value)
        values = {value}
        if (lead := re.search(r"\d+\.\d+", q.written)) and Decimal(lead[0]):
            mantissa = Decimal(lead[0])
            values |= rounded(value, mantissa)
        for v in values:
            units.setdefault(canonical(v), set()).add(q.unit)
    return {value: frozenset(found) for value, found in units.items()}


def unit_mismatches(output: str, source: str) -> list[tuple[Quantity, set[str]]]:
    """Quantities in `output` whose number the source gives only with other units, each with
    those units. A number the source gives bare, or not at all, is not judged here."""
    known = _source_units(source)
    wrong: list[tuple[Quantity, set[str]]] = []
    for q in quantities_in(output):
        units = known.get(q.value)
        if units and not any(same_unit(q.unit, u) for u in units):
            wrong.append((q, set(units)))
    return wrong
