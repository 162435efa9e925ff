"""A Chinese fallback headline cut at the budget does not end on an adverb, a modal or a
determiner that needs what follows ("警方已…", police have already …; "大桥将会…", the
bridge will …; "该…", this …): the cut backs off to the word before it. Words that hold
such a character but end a clause well ("而已", "首都") stay."""

from __future__ import annotations

import pytest

from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import ExtractiveSummarizer


def _cut_after(hashing: HashingEncoder, body: str, word: str) -> str:
    """The one headline of a one-sentence body whose budget ends right after `word`."""
    budget = body.index(word) + len(word)
    heads = ExtractiveSummarizer(hashing).headlines("", body, 1, budget)
    assert len(heads) == 1
    return heads[0]


@pytest.mark.parametrize(
    ("body", "word", "expected"),
    [
        ("市政府的调查人员已经逮捕了一名涉嫌纵火的男子。", "已经", "市政府的调查人员…"),
        ("当地警方已逮捕了一名涉嫌纵火的男子。", "已", "当地警方…"),
        ("市卫生部门正在调查这起食物中毒事件。", "正在", "市卫生部门…"),
        ("受损的高速公路仍未恢复通车。", "仍", "受损的高速公路…"),
        ("受损的高速公路至今仍然没有恢复通车。", "仍然", "受损的高速公路至今…"),
        ("这家老字号餐厅还保留着百年前的招牌。", "还", "这家老字号餐厅…"),
        ("邻近城市的居民也受到了暴雨的影响。", "也", "邻近城市的居民…"),
        ("参加比赛的五支球队都获得了奖金。", "都", "参加比赛的五支球队…"),
        ("新来的年轻教练就带领球队赢得了冠军。", "就", "新来的年轻教练…"),
        ("这位年轻的长跑运动员才十七岁。", "才", "这位年轻的长跑运动员…"),
        ("这位退休的老教师曾在山区任教三十年。", "曾", "这位退休的老教师…"),
        ("市场上的房价早已超出普通家庭的承受能力。", "早已", "市场上的房价…"),
        ("當地警方已經逮捕了一名涉嫌縱火的男子。", "已經", "當地警方…"),  # Traditional
        ("這家老字號餐廳還保留著百年前的招牌。", "還", "這家老字號餐廳…"),
        # modals and determiners need what follows them too
        ("新建的跨海大桥将会在明年五月正式通车。", "会", "新建的跨海大桥…"),
        ("所有参赛选手必须在周五之前完成报名。", "必须", "所有参赛选手…"),
        ("城市居民应该减少一次性塑料的使用。", "应该", "城市居民…"),
        ("这位老将今年能否参加世界杯仍是未知数。", "能否", "这位老将今年…"),
        ("年轻的球员们想要在主场赢得比赛。", "想要", "年轻的球员们…"),
        ("暴雨过后城市的空气变得格外清新。", "变得", "暴雨过后城市的空气…"),
        ("调查人员在现场发现了该公司的内部文件。", "该", "调查人员在现场发现了…"),
        ("警方表示这起事故造成三人受伤。", "这", "警方表示…"),
        ("新建的跨海大橋將會在明年五月正式通車。", "會", "新建的跨海大橋…"),  # Traditional
        # ... and so do "will not", "no longer", "again", "almost", "very", "tries to"
        ("受伤的主力前锋不会参加周日的比赛。", "不会", "受伤的主力前锋…"),
        ("這位資深議員表示他不會再競選連任。", "不會", "這位資深議員表示他…"),  # Traditional
        ("这份秘密档案已经不再是什么秘密了。", "不再", "这份秘密档案…"),
        ("主队的防守问题在周日再次困扰球队。", "再次", "主队的防守问题在周日…"),
        ("一名骑车的女子几乎被一辆卡车撞倒。", "几乎", "一名骑车的女子…"),
        ("这家新开的餐厅做的鱼非常美味。", "非常", "这家新开的餐厅做的鱼…"),
        ("一名男子在试图阻止抢劫时受伤。", "试图", "一名男子…"),
        ("这座小镇位于首都以南约一小时车程的地方。", "约", "这座小镇位于首都以南…"),
        ("城市的机场在节日期间越来越繁忙。", "越来越", "城市的机场在节日期间…"),
    ],
)
def test_a_chinese_cut_does_not_end_on_an_adverb(
    hashing: HashingEncoder, body: str, word: str, expected: str
) -> None:
    assert _cut_after(hashing, body, word) == expected


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("他说网上流传的这些不过是谣言而已并呼吁市民不要相信。", "而已"),  # only, a particle
        ("新当选的市长出生在首都并在那里工作了二十年。", "首都"),  # the capital
        ("这位科学家的研究成就得到了国际同行的广泛认可。", "成就"),  # achievement
        ("这家公司正在招聘大量技术人才以扩大研发团队规模。", "人才"),  # talent
        ("他认为这件事根本不可能并拒绝了对方的提议。", "不可能"),  # impossible, then "and"
        ("专家认为存在病毒传播的可能并建议加强防控。", "可能"),  # the possibility
        ("这座古老的城市值得每一位游客细细品味。", "值得"),  # worth, a verb
        ("主办方已经为这场盛会做好了准备迎接各地游客。", "准备"),  # preparation
    ],
)
def test_a_word_that_holds_such_a_character_ends_a_cut(
    hashing: HashingEncoder, body: str, word: str
) -> None:
    budget_end = body.index(word) + len(word)
    assert _cut_after(hashing, body, word) == body[:budget_end] + "…"


@pytest.mark.parametrize(
    ("body", "word", "expected"),
    [
        ("气象局表示本周末可能会有大范围降雪。", "可能", "气象局表示本周末…"),  # may
        ("受伤的明星四分卫很可能不会参加周日的比赛。", "可能", "受伤的明星四分卫…"),  # likely
        ("美国政府不可能放弃这项耗资巨大的计划。", "可能", "美国政府…"),  # cannot possibly
        ("邻近城市的居民也可能受到暴雨的影响。", "可能", "邻近城市的居民…"),  # also may
        ("球员被列入伤病名单这可能并不代表赛季结束。", "可能", "球员被列入伤病名单…"),  # may not
        ("氣象局表示本週末可能會有大範圍降雪。", "可能", "氣象局表示本週末…"),  # Traditional
    ],
)
def test_a_chinese_cut_does_not_end_on_the_modal_may(
    hashing: HashingEncoder, body: str, word: str, expected: str
) -> None:
    """ "可能" before its verb is "may": "…很可能…" and "…不可能…" lose it with their adverb."""
    assert _cut_after(hashing, body, word) == expected


def test_may_after_a_measure_word_is_the_noun_possibility(hashing: HashingEncoder) -> None:
    body = "专家认为还有另一种可能值得认真考虑。"
    assert _cut_after(hashing, body, "可能") == "专家认为还有另一种可能…"


@pytest.mark.parametrize("budget", [12, 14])
def test_a_chinese_cut_keeps_the_bracket_it_ends_after(
    hashing: HashingEncoder, budget: int
) -> None:
    """Backing off from "不会" or cut right after ")", the aside stays whole, not reopened:
    "(Kenley Jansen)…", not "(Kenley Jansen…)"."""
    body = "球队的关键球员詹森 (Kenley Jansen) 不会参加周日的比赛。"
    heads = ExtractiveSummarizer(hashing).headlines("", body, 1, budget)
    assert heads == ["球队的关键球员詹森 (Kenley Jansen)…"]
