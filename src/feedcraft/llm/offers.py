"""Commercial claims a text makes: price cuts, free extras, guarantees, limited offers.

Ad copy is where a model invents a deal ("now at half price", "free shipping today", "买一送一")
that the product's data never offered, and no number need be involved for the numbers check
to catch it. Each claim is a family of phrasings; an output may make a claim only when its
source makes one of the same family (in any of its phrasings), so "half price" is licensed
by "half price" or "50% off"'s family, not by the word "price" alone.
"""

from __future__ import annotations

import re

__all__ = ["OFFER_FAMILIES", "offers_in", "offers_not_in_source"]

# family -> phrasings (English matched as whole words, case-insensitively; Chinese anywhere,
# Simplified and Traditional forms)
OFFER_FAMILIES: dict[str, tuple[str, ...]] = {
    "discount": (
        r"half[- ]price",
        r"\d+(?:\.\d+)?\s*%\s*off",
        r"(?:price\s+)?discount(?:s|ed)?",
        r"(?:on\s+)?sale\s+(?:price|now|today|ends)",
        r"clearance",
        r"reduced\s+price",
        r"price\s+(?:cut|drop)s?",
        r"(?:cuts?|cutting|slash(?:es|ed|ing)?)\s+(?:its\s+|their\s+|the\s+)?prices?",
        r"半价|半價|打折|[一二三四五六七八九\d]\s*折|折扣|特价|特價|降价|降價|清仓|清倉|优惠价|優惠價",
    ),
    "free_extra": (
        r"free\s+(?:shipping|delivery|postage|returns|gift|trial|installation|samples?)",
        r"包邮|包郵|免运费|免運費|免费送|免費送|赠品|贈品|免费试用|免費試用",
    ),
    "bundle": (
        r"buy\s+one,?\s+get\s+one(?:\s+free)?",
        r"bogo",
        r"two\s+for\s+one|2\s*for\s*1",
        r"买一送一|買一送一|买二送一|買二送一",
    ),
    "guarantee": (
        r"money[- ]back\s+guarantee",
        r"lifetime\s+(?:warranty|guarantee)",
        r"satisfaction\s+guaranteed",
        r"(?:full\s+)?refund\s+guarantee",
        r"无理由退[货貨]|無理由退[货貨]|终身保修|終身保修",
    ),
    "urgency": (
        r"limited[- ]time\s+(?:offer|only|deal)",
        r"while\s+stocks?\s+last",
        r"today\s+only",
        r"last\s+chance",
        r"限时|限時|仅限今天|僅限今天|数量有限|數量有限",
    ),
}


def _compile(phrasing: str) -> re.Pattern[str]:
    if re.search(r"[\u4e00-\u9fff]", phrasing):
        return re.compile(phrasing)
    return re.compile(rf"(?<![\w-])(?:{phrasing})(?![\w-])", re.I)


_PATTERNS = {family: [_compile(p) for p in ps] for family, ps in OFFER_FAMILIES.items()}


def offers_in(text: str) -> dict[str, str]:
    """The claim families `text` makes, each with the first phrase found."""
    found: dict[str, str] = {}
    for family, patterns in _PATTERNS.items():
        for pattern in patterns:
            if m := pattern.search(text):
                found[family] = m.group(0)
                break
    return found


def offers_not_in_source(output: str, source: str) -> list[str]:
    """Phrases of `output` whose claim family `source` never makes ("half price" for a
    product whose data names no price cut)."""
    made = offers_in(output)
    if not made:
        return []
    licensed = offers_in(source)
    return [phrase for family, phrase in made.items() if family not in licensed]
