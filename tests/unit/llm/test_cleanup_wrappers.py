"""Wrappers, labels, lead-ins and chatter around model answers: cleanup takes them off, and
leaves plain good answers (and content that merely looks like a wrapper) exactly as they are."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from feedcraft.llm import HeadlineRequest, SummaryRequest
from feedcraft.llm.guardrails import check_format
from feedcraft.llm.tasks import prepare_headlines, prepare_summary

_TASKS: dict[str, Callable[[str], list[str]]] = {
    "en": prepare_headlines(HeadlineRequest("Storm", "A storm hit the coast.")).postprocess,
    "zh": prepare_headlines(HeadlineRequest("台风", "台风周一登陆沿海。")).postprocess,
    "en_summary": prepare_summary(SummaryRequest("Storm", "A storm hit the coast.")).postprocess,
    "zh_summary": prepare_summary(SummaryRequest("台风", "风暴周一袭击了海岸。")).postprocess,
}
_KIND = {"en": "headline", "zh": "headline", "en_summary": "prose", "zh_summary": "prose"}

EN = "A storm hit the coast on Monday."
EN2 = "A storm hit the coast on Monday. Three people died."
ZH = "风暴周一袭击了海岸。三人死亡。"

# (task, model output, what cleanup must make of it)
WRAPPED: list[tuple[str, str, str]] = [
    ("en", "«Storm hits coast»", "Storm hits coast"),
    ("en", "« Storm hits coast »", "Storm hits coast"),
    ("en", "> Storm hits coast", "Storm hits coast"),
    ("en", "__Storm hits coast__", "Storm hits coast"),
    ("en", "_Storm hits coast, three dead_", "Storm hits coast, three dead"),
    ("en", "**1. Storm hits coast**", "Storm hits coast"),
    ("en", "Headlines:\n1. Storm hits coast\n2. Coast braces for storm", "Storm hits coast"),
    ("en", "# Headline\nStorm hits coast", "Storm hits coast"),
    ("en", "**New headline:**\nStorm hits coast", "Storm hits coast"),
    ("en", "Certainly! Storm hits coast", "Storm hits coast"),
    ("en", 'Sure! Here\'s a new headline:\n\n"Storm hits coast"', "Storm hits coast"),
    ("en", "Of course, here is the headline: Storm hits coast", "Storm hits coast"),
    ("en", "Okay.\nStorm hits coast", "Storm hits coast"),
    ("en", "Here are three headlines for the article.\n1. Storm hits coast", "Storm hits coast"),
    ("en", "Storm update:\nStorm hits coast", "Storm hits coast"),
    ("en", "Headline: Storm hits coast, killing three and", "Storm hits coast, killing three"),
    ("en", "- Storm batters the coast of", "Storm batters the coast"),
    ("en", "Storm hits coast, but", "Storm hits coast"),
    ("en", "Storm hits coast,", "Storm hits coast"),
    ("zh", "《台风登陆沿海》", "台风登陆沿海"),
    ("zh", "新标题：台风登陆沿海", "台风登陆沿海"),
    ("zh", "①台风登陆沿海", "台风登陆沿海"),
    ("zh", "⑴台风登陆沿海", "台风登陆沿海"),
    ("zh", "【台风登陆沿海】", "台风登陆沿海"),
    ("zh", "第一个标题：台风登陆沿海", "台风登陆沿海"),
    ("zh", "标题如下：\n台风登陆沿海", "台风登陆沿海"),
    ("zh", "好的，以下是新标题：\n1. 台风登陆沿海", "台风登陆沿海"),
    ("zh", "当然！《台风登陆沿海，三人死亡》", "台风登陆沿海，三人死亡"),
    ("zh", "**标题**\n台风登陆沿海", "台风登陆沿海"),
    ("en_summary", f"{EN2} I hope this helps!", EN2),
    ("en_summary", f"{EN}\n\nNote: This summary is based on the article provided.", EN),
    ("en_summary", f"{EN}\n---\nLet me know if you need anything else.", EN),
    ("en_summary", f"{EN} --- Let me know if you need anything else.", EN),
    ("en_summary", f"**Summary**\n{EN}", EN),
    ("en_summary", f"### Summary\n{EN}", EN),
    ("en_summary", f"Summary\n\n{EN}", EN),
    ("en_summary", f"Summary of the article:\n{EN}", EN),
    ("en_summary", f"Sure! {EN}", EN),
    ("en_summary", f"Certainly. Here is a summary of the article.\n\n{EN}", EN),
    ("en_summary", f"{EN} If you would like a shorter version, just let me know!", EN),
    ("en_summary", f"{EN} Is there anything else you would like to know?", EN),
    ("en_summary", f"{EN}\n\n(This summary is 7 words long.)", EN),
    ("zh_summary", f"好的，以下是摘要：{ZH}", ZH),
    ("zh_summary", f"{ZH}希望对您有所帮助！", ZH),
    ("zh_summary", f"{ZH}\n\n如需修改，请随时告诉我。", ZH),
    ("zh_summary", f"当然，{ZH}", ZH),
    ("zh_summary", f"**摘要**\n{ZH}", ZH),
    ("zh_summary", f"{ZH}\n注：本摘要基于所提供的文章。", ZH),
    ("zh_summary", f"{ZH}以上是这篇文章的摘要。", ZH),
]

# (task, a good answer cleanup must leave as it is)
GOOD: list[tuple[str, str]] = [
    ("en", "Storm hits coast, three dead"),
    ("en", "3 dead as storm hits coast"),
    ("en", "Mayor vows to “rebuild”"),
    ("en", "What the storm was made of"),
    ("en", "Storm and flood hit coast"),
    ("en", "Flood raises risk of hepatitis A"),
    ("en", "Nobody saw that coming"),
    ("en", "Sure-footed goats rescued after storm"),
    ("en", "OK Go films video on storm-hit coast"),
    ("en", "Summary judgment ordered in storm case"),
    ("en", "Titles of nobility abolished after storm"),
    ("en", "Headline inflation eases after storm"),
    ("en", "__init__ bug hits storm warning app"),
    ("en", "snake_case names confuse storm app"),
    ("en", "> 50 dead as storm hits coast"),
    ("en", "Storm forces switch to Plan A"),
    ("en", "Bundeskanzler kündigt neue Reform an"),
    ("en", "Mbappé marque un but"),
    ("zh", "《三体》电视剧定档春节"),
    ("zh", "台风登陆沿海，三人死亡"),
    ("zh", "【快讯】台风登陆沿海"),
    ("zh", "地铁一号线和二号线将合并"),
    ("zh", "新华社：台风登陆沿海"),
    ("en_summary", EN2),
    ("en_summary", "A storm hit the coast. If you live nearby, officials urge you to leave."),
    ("en_summary", 'The mayor said: "I hope this helps the town recover."'),
    ("en_summary", "A storm hit the coast. Note that it was the third storm this year."),
    ("en_summary", "A judge issued the ruling. This summary judgment ends the case."),
    ("en_summary", "Of all the storms this year, this one hit the coast hardest."),
    ("en_summary", "Pack light for the trip. Feel free to mix and match the colours."),
    ("en_summary", "The kettle boils in two minutes. Note: The original lid is sold separately."),
    ("en_summary", "This version is lighter than the last one. It folds flat."),
    ("en_summary", "Is there anything else a hiker needs? This bag holds it all."),
    ("zh_summary", ZH),
    ("zh_summary", "风暴周一袭击了海岸。如果你看到险情，请联系当地消防部门。"),
    ("zh_summary", "风暴周一袭击了海岸。官员希望国际援助能帮助重建。"),
    ("zh_summary", "约5000字的报告显示风暴造成重大损失。"),
]


@pytest.mark.parametrize(("task", "raw", "expected"), WRAPPED)
def test_wrappers_labels_and_chatter_are_removed(task: str, raw: str, expected: str) -> None:
    assert _TASKS[task](raw) == [expected]


@pytest.mark.parametrize(("task", "raw"), GOOD)
def test_good_answers_are_left_alone(task: str, raw: str) -> None:
    assert _TASKS[task](raw) == [raw]


@pytest.mark.parametrize(
    ("task", "raw"),
    [
        ("en", "Certainly! Storm hits coast"),
        ("en", "Sure, here is a headline:\nStorm hits coast"),
        ("en_summary", f"**Summary**\n{EN}"),
        ("zh_summary", f"好的，以下是摘要：{ZH}"),
        ("zh_summary", f"好的，{ZH}"),
    ],
)
def test_a_good_answer_behind_a_lead_in_passes_the_format_check(task: str, raw: str) -> None:
    """The guardrails reject what starts with "Sure"/"好的，": cleanup must take it off, or
    a good answer is thrown away."""
    [text] = _TASKS[task](raw)
    assert check_format(text, kind=_KIND[task]).passed


def test_only_chatter_or_only_a_header_leaves_nothing() -> None:
    assert _TASKS["en"]("Headlines:") == []
    assert _TASKS["en_summary"]("I hope this helps! Let me know if you need anything else.") == []
    assert _TASKS["en"]("Storm update:") == ["Storm update:"]  # for the guardrails to refuse
