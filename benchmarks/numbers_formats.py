"""Number formats in the numbers check: exponents in units, ISO dates, currency codes.

The guardrails' numbers check (`check_numbers`) failed faithful outputs on "5 km²" (NFKC reads
"km2": a 2 not in the source) and "2019-03-05" (a 03 not in "March 5, 2019"), and passed
"20 euros" for "CAD 20" (an unknown code leaves the number bare, and a bare number licenses any
unit). Then (session 29) Chinese months ("三月" read as a bare 3), powers of ten ("10⁶" read as
106), ISO year-months ("2019-03" as 2019 and 3) and English months the source does not give
("on March 5" against "on May 5"). This script counts the check's verdicts on real text, where
each output is faithful, so every failure is a false one or a real gap between title and text:

- MIND: each title against its own abstract, the first 2,000 items of
  `../shared/data/mind-small/MINDsmall_train_sample/news.tsv.gz`;
- xMIND (Chinese): the same for the first 3,000 items of
  `../shared/data/xmind-cmn/xMINDsmall_dev/news.tsv.gz`;
- Wikinews: each article's lead sentence against its body (`sample/wikinews/items.jsonl`);
- probes: sentences written for this script, each with the verdict it should get;
- invented ordinals (session 30, recall): each MIND title and Wikinews lead with an ordinal
  word from "third" up, each such ordinal made the next ("third" -> "fourth"), and each xMIND
  title with 第三 to 第九 the same (-> 第四 to 第十): every one should fail; the `_control`
  rows hold the same items unchanged;
- probes of session 31: shares in another form than the source's ("one in three" for "33%",
  三分之一 for 百分之三十三) and Chinese months that are counts (连续十月, 前三月);
- probes of session 32: Chinese tenths (三成 for 30%) and bracketed reference marks ("[1]");
- probes of session 33: pairs the source writes "a/b" ("went 3/5") as "a of b" ("3 of 5");
- probes of session 37: such a pair on a star scale ("rated 3/5") as stars ("3 stars"); the
  slash names of the news ("9/11", "50/50") as no pair.

`--before SRC` and `--show`: see `check_verdicts.main`.

    .venv/bin/python benchmarks/numbers_formats.py [--before /tmp/before/src] [--show]
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import check_verdicts
from check_verdicts import DATA, MIND, REPO, wikinews_pairs

XMIND = DATA / "xmind-cmn" / "xMINDsmall_dev" / "news.tsv.gz"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "numbers_formats.json"
# (output, source, should pass): the three formats, both ways, and what must still fail.
PROBES = [
    ("The park covers 5 km².", "The park covers 5 square kilometres of forest.", True),
    ("The park covers 5 square kilometres.", "The park covers 5 km².", True),
    ("The park covers 5 km.", "The park covers 5 km².", False),
    ("The park covers 5 km².", "The park covers 5 km.", False),
    ("The flat has 80 m² of floor.", "The flat has 80 square metres of floor.", True),
    ("The tank holds 5 m³.", "The tank holds 5 cubic metres.", True),
    ("The tank holds 5 cubic metres.", "The tank holds 5 m³.", True),
    ("The tank holds 5 m³.", "The tank holds 5 m².", False),
    ("CO2 levels rose.", "Emissions rose.", False),
    ("The G7 met.", "Leaders met.", False),
    ("The vote is on 2019-03-05.", "The vote is on March 5, 2019.", True),
    ("The vote is on 2019-03-05.", "The vote is on 5 March 2019.", True),
    ("投票在2019-03-05举行。", "投票在2019年3月5日举行。", True),
    ("The vote is on March 5, 2019.", "The vote is on 2019-03-05.", True),
    ("The vote is on 2019-03-06.", "The vote is on March 5, 2019.", False),
    ("The vote is on 2019-04-05.", "The vote is on March 5, 2019.", False),
    ("3 people voted in March.", "People voted in March.", False),
    ("It costs 20 euros.", "It costs CAD 20.", False),
    ("It costs 20 euros.", "It costs 20 CAD.", False),
    ("It costs C$20.", "It costs CAD 20.", True),
    ("It costs 20 Canadian dollars.", "It costs CAD 20.", True),
    ("It costs €20.", "It costs EUR 20.", True),
    ("It costs 20 pounds.", "It costs GBP 20.", True),
    # Chinese months, powers of ten, year-months and English months.
    ("他们三月投票。", "They voted in March 2019.", True),
    ("他们三月投票。", "They voted in May 2019 with 3 parties.", False),
    ("3人投票。", "他们三月投票。", False),
    ("It has 10⁶ cells.", "It has 1 million cells.", True),
    ("About 1.5 x 10^6 people.", "About 1,500,000 people.", True),
    ("It has 10⁶ cells.", "It has 106 cells.", False),
    ("The vote was in 2019-03.", "The vote was on March 5, 2019.", True),
    ("The vote was in 2019-03.", "The vote was in April 2019 with 3 parties.", False),
    ("The 2019-20 season began.", "The 2019-20 season began.", True),
    ("The vote on March 5 drew crowds.", "The vote on May 5 drew crowds.", False),
    ("The vote was in March.", "The vote was in May.", False),
    ("The vote was in March.", "投票在2019年3月5日举行。", True),
    ("Theresa May said 5 things.", "Ms Smith said 5 things.", True),
    # Session 29b: months with a day, short year ranges, day ranges, "N日", times and others.
    ("11人死亡。", "展会将于11月13日开幕。", False),
    ("3 people came.", "It opened on 03/05/2019.", False),
    ("11 people came.", "The 9/11 memorial opened.", False),
    ("The 9/11 memorial opened.", "纪念馆于9月11日开放。", True),
    ("The 9/11 memorial opened.", "It opened on September 11.", True),
    ("It opened on 3/5/2019.", "It opened on March 5, 2019.", True),
    ("It was rated 4/5.", "Critics gave it 4 stars of 5.", True),
    ("The 2019-20 season began.", "The 2019-2020 season began.", True),
    ("The 2019-2020 season began.", "The 2019-20 season began.", True),
    ("He served 2005-09.", "He served from 2005 to 2009.", True),
    ("He served 2005-09.", "He served from 2005 to 2008.", False),
    ("The fair runs March 4-7.", "The fair runs from 4 to 7 March.", True),
    ("展会3月7日结束。", "展会3月5日至7日举行。", True),
    ("展会3月8日结束。", "展会3月5日至7日举行。", False),
    ("北京3日游", "北京三日游", True),
    ("有5日本游客", "有五名日本游客", True),
    ("他们5日投票。", "They voted on March 6 with 5 parties.", False),
    ("In the '90s.", "In the 1990s.", True),
    ("At 17:30.", "At 5:30 pm.", True),
    ("At 17:30.", "At 5:30 am.", False),
    ("It has 1e6 cells.", "It has 1 million cells.", True),
    ("FY19 profit rose.", "FY2019 profit rose.", True),
    ("19年3月投票", "2019年3月投票", True),
    ("周三投票", "They voted on Wednesday.", True),
    ("3人投票", "他们周三投票", False),
    # Session 30: slash dates read either way; words with a month inside (五月天, Mayday).
    ("It opened on 3/5.", "It opened on 3 May.", True),
    ("It opened on 3/5/2019.", "It opened on 2019-05-03.", True),
    ("It opened on 3/5.", "It opened on 4 May.", False),
    ("It opened on 13/5.", "It opened on 5 March.", False),
    ("About 3/5 of voters agreed.", "About 3/5 of voters agreed.", True),
    ("About 3/5 of voters agreed.", "Most voters agreed on 8 June.", False),
    ("五月天开唱", "The band Mayday played in Taipei.", True),
    ("演唱会5月举行。", "五月天在台北举行演唱会。", False),
    # Session 30: ordinals (licensed by their number in any form), fractions in words (by the
    # same share), Chinese ordinals (第一 unchecked like "first"), footnote marks ("2010¹").
    ("It was the fourth time this year.", "It was the 4th time this year.", True),
    ("It was the 4th time this year.", "It was the fourth time this year.", True),
    ("It was the fourth time this year.", "It was the second time this year.", False),
    ("Growth in the twenty-first century.", "Growth in the 21st century.", True),
    ("The twenty-second edition opened.", "The 21st edition opened.", False),
    ("It is the third-largest city.", "It is the 3rd largest city.", True),
    ("First, the council voted.", "The council voted on the plan.", True),
    ("Third-party sellers joined.", "Outside sellers joined.", True),
    ("A third of voters agreed.", "One in three voters agreed.", True),
    ("A third of voters agreed.", "33% of voters agreed.", True),
    ("Two-thirds of voters agreed.", "67 percent of voters agreed.", True),
    ("A third of voters agreed.", "25% of voters agreed.", False),
    ("A third of voters agreed.", "It was the third vote.", False),
    ("第十届大会开幕。", "第10届大会开幕。", True),
    ("第十届大会开幕。", "第九届大会开幕。", False),
    ("第二场比赛", "The 2nd game was played.", True),
    ("第五场比赛", "第四场比赛", False),
    ("他获得第一名。", "他获胜。", True),
    ("第三方卖家加入。", "外部卖家加入。", True),
    ("第二天他离开了。", "次日他离开了。", True),
    ("The town was founded in 2010.", "The town was founded in 2010¹.", True),
    ("The town was founded in 2010¹.", "The town was founded in 2010.", True),
    ("Smith¹ said 5 things.", "Smith said 5 things.", True),
    ("The town was founded in 2011.", "The town was founded in 2010¹.", False),
    ("1 person was hurt.", "The town was founded in 2010¹.", False),
    # Session 31: a share in another form than the source's ("one in three" for "33%"; 三分之一
    # and 百分之三十三 as shares); a share the source does not give still fails.
    ("One in three voters agreed.", "33% of voters agreed.", True),
    ("33% of voters agreed.", "One in three voters agreed.", True),
    ("33.3% of voters agreed.", "A third of voters agreed.", True),
    ("67 per cent of voters agreed.", "Two-thirds of voters agreed.", True),
    ("三分之一的选民同意。", "33%的选民同意。", True),
    ("三分之一的选民同意。", "百分之三十三的选民同意。", True),
    ("33%的选民同意。", "三分之一的选民同意。", True),
    ("A third of voters agreed.", "三分之一的选民同意。", True),
    ("One in four voters agreed.", "33% of voters agreed.", False),
    ("45% of voters agreed.", "One in three voters agreed.", False),
    ("33% of voters agreed.", "35% of voters agreed.", False),
    ("四分之一的选民同意。", "百分之三十三的选民同意。", False),
    ("33 voters agreed.", "One in three voters agreed.", False),
    # Session 31: a month after 连续/前/近 is a count of months (连续十月: ten in a row).
    ("他连续十月未领工资。", "他连续10个月未领工资。", True),
    ("前三月销量增长。", "前3个月销量增长。", True),
    ("此前3月5日他离开。", "他于3月5日离开。", True),
    ("连续三月上涨。", "三月份价格上涨。", False),
    ("前三月销量增长。", "三月份销量增长。", False),
    # Session 32: Chinese tenths (三成 is 30%) are shares; Wikipedia's reference marks
    # ("2010.[1]") are no numbers, in the output or the source.
    ("三成居民支持。", "30%的居民支持。", True),
    ("30%的居民支持。", "近三成居民支持。", True),
    ("九成五的用户满意。", "95%的用户满意。", True),
    ("六成三的用户满意。", "百分之六十三的用户满意。", True),
    ("四成居民支持。", "30%的居民支持。", False),
    ("他星期六成功返回。", "他周六返回。", True),
    ("It was founded in 2010.[1]", "It was founded in 2010.", True),
    ("增长了5倍。[2]", "增长了5倍。", True),
    ("7 people were hurt.", "Five people were hurt.[7]", False),
    # Session 33: a pair the source writes "a/b" (a score, a tally) is the count "a of b"
    # (not "60%", not a date: "3/5/2019", "on 3/5", "after 9/11"); it gives no bare number.
    ("It won 3 of 5 games.", "The team went 3/5 in its games.", True),
    ("Three of five voters agreed.", "Voters agreed 3/5.", True),
    ("Reviewers gave it seven of ten.", "Reviewers scored it 7/10.", True),
    ("The team won three of the five games.", "The team went 3/5 in its games.", True),
    ("The film was rated 3/5.", "Critics gave it three of five stars.", True),
    ("It won 4 of 5 games.", "The team went 3/5 in its games.", False),
    ("It won 3 of 5 games.", "The team went 3/7 in its games.", False),
    ("It won 3 of 5 games.", "The game was played on 3/5/2019.", False),
    ("It won 3 of 5 games.", "The game was played on 3/5 in Ohio.", False),
    ("9 of 11 people died.", "Families of people killed after 9/11 met.", False),
    ("It won 3 of 5 games.", "It won 60% of its games.", False),
    # Session 37: on a star scale (out of 4, 5 or 10) the pair is also a rating in stars.
    ("The film got 3 stars.", "The film was rated 3/5 by critics.", True),
    ("A three-star film, critics say.", "The film was rated 3/5 by critics.", True),
    ("The film got 4 stars.", "The film was rated 3/5 by critics.", False),
    ("The hotel got 3 stars.", "The team went 3/7 in its games.", False),
    ("The film got 3 stars.", "The film opened on 3/5 in Ohio.", False),
    # ... and the slash names of the news are no tallies, but after a tally verb.
    ("9 of 11 people died.", "The 9/11 attacks killed thousands.", False),
    ("All voters agreed, 100%.", "Voters split 50/50.", False),
    ("He made 9 of 11 shots.", "He went 9/11 from the field.", True),
]
# Invented ordinals (see the docstring): the next of each ordinal word, and of 第三 to 第九.
_ORDINAL_WORDS = """third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
    thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"""
_ORDINALS = _ORDINAL_WORDS.split()
_NEXT_ORDINAL = dict(zip(_ORDINALS, [*_ORDINALS[1:], "twenty-first"], strict=True))
_EN_ORDINAL = re.compile(rf"\b(?:{'|'.join(_ORDINALS)})\b", re.I)
_ZH_NEXT = dict(zip("三四五六七八九", "四五六七八九十", strict=True))
_ZH_ORDINAL = re.compile("(?<=第)[三四五六七八九](?![〇零一二两三四五六七八九十百千])")


def _next_ordinal(m: re.Match[str]) -> str:
    word = _NEXT_ORDINAL[m[0].lower()]
    return word.capitalize() if m[0][0].isupper() else word


def invented_ordinals() -> dict[str, list[tuple[str, str]]]:
    """The recall rows: outputs with each ordinal made the next, and the same unchanged."""
    english = [*mind_pairs(MIND, 2000, header=False), *wikinews_pairs()]
    english = [(o, s) for o, s in english if _EN_ORDINAL.search(o)]
    chinese = [(o, s) for o, s in mind_pairs(XMIND, 3000, header=True) if _ZH_ORDINAL.search(o)]
    return {
        "invented_ordinals_en": [(_EN_ORDINAL.sub(_next_ordinal, o), s) for o, s in english],
        "invented_ordinals_en_control": english,
        "invented_ordinals_zh": [
            (_ZH_ORDINAL.sub(lambda m: _ZH_NEXT[m[0]], o), s) for o, s in chinese
        ],
        "invented_ordinals_zh_control": chinese,
    }


def mind_pairs(path: Path, limit: int, *, header: bool) -> list[tuple[str, str]]:
    """(title, abstract) of the first `limit` items of a MIND-format news.tsv.gz."""
    pairs: list[tuple[str, str]] = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        if header:
            next(f)
        for line in f:
            fields = line.rstrip("\n").split("\t")
            title, abstract = (fields[3], fields[4]) if len(fields) > 4 else (fields[1], fields[2])
            pairs.append((title, abstract))
            if len(pairs) == limit:
                break
    return pairs


def corpora() -> dict[str, list[tuple[str, str]]]:
    return {
        "mind_title_vs_abstract": mind_pairs(MIND, 2000, header=False),
        "xmind_title_vs_abstract": mind_pairs(XMIND, 3000, header=True),
        "wikinews_lead_vs_body": wikinews_pairs(),
        **invented_ordinals(),
        "probes": [(o, s) for o, s, _ in PROBES],
    }


def verdicts() -> dict[str, list[list[Any]]]:
    """[passed, detail] for every pair of every corpus, by the feedcraft on sys.path."""
    from feedcraft.llm.guardrails import check_numbers

    out: dict[str, list[list[Any]]] = {}
    for name, pairs in corpora().items():
        out[name] = [[r.passed, r.detail] for r in (check_numbers(o, s) for o, s in pairs)]
    return out


if __name__ == "__main__":
    check_verdicts.main(
        __file__, __doc__, DEFAULT_OUT, lambda _: verdicts(), lambda _: corpora(), PROBES
    )
