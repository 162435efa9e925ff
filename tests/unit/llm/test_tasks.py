"""Task preparation: prompts in the source language, delimited data, post-processing."""

from __future__ import annotations

from typing import Any

import pytest

from feedcraft.errors import InvalidInput
from feedcraft.llm import (
    AdCopyRequest,
    HeadlineRequest,
    ProductDescriptionRequest,
    SummaryRequest,
    count_units,
)
from feedcraft.llm.safety import DATA_CLOSE, DATA_OPEN
from feedcraft.llm.tasks import (
    MAX_SOURCE_UNITS,
    SYSTEM,
    detect_source_language,
    prepare_ad_copy,
    prepare_headlines,
    prepare_product_description,
    prepare_summary,
)


def test_summary_prompt_carries_interests_budget_and_data(articles: list[dict[str, Any]]) -> None:
    a = articles[0]
    task = prepare_summary(SummaryRequest(a["title"], a["body"], ("trade", "Brazil"), 45))
    system, user = task.messages
    assert system.role == "system" and system.content == SYSTEM["en"]
    assert user.content.startswith(DATA_OPEN)
    instruction = user.content.split(DATA_CLOSE)[1]
    assert "45 words" in instruction and "trade, Brazil" in instruction
    assert a["title"] in user.content.split(DATA_CLOSE)[0]
    assert task.language == "en" and task.max_length == 45 and task.n_outputs == 1
    assert task.instructions[-1] == instruction  # what outputs must not echo
    general = prepare_summary(SummaryRequest(a["title"], a["body"]))
    assert "general news" in general.messages[-1].content


def test_chinese_source_gets_a_chinese_prompt(chinese_items: list[tuple[str, str]]) -> None:
    title, abstract = chinese_items[0]
    task = prepare_summary(SummaryRequest(title, abstract, ("健康",)))
    assert task.language == "zh"
    assert task.messages[0].content == SYSTEM["zh"]
    assert "个字" in task.messages[-1].content and "健康" in task.messages[-1].content
    assert task.max_length == 100
    heads = prepare_headlines(HeadlineRequest(title, abstract))
    assert "标题" in heads.messages[-1].content and heads.max_length == 24


def test_other_languages_use_the_english_template_with_a_language_note() -> None:
    body = "Le gouvernement a annoncé une nouvelle politique économique pour les régions rurales."
    task = prepare_summary(SummaryRequest("Nouvelle politique", body))
    assert task.language == "fr"
    assert task.messages[-1].content.endswith("Answer in the language of the data.")
    assert detect_source_language("anything", "ZH-tw") == "zh"


def test_long_sources_are_clipped_to_the_context(articles: list[dict[str, Any]]) -> None:
    body = " ".join(a["body"] for a in articles[:15])
    task = prepare_summary(SummaryRequest("Many stories", body))
    data = task.messages[-1].content.split(DATA_CLOSE)[0]
    assert count_units(data) <= MAX_SOURCE_UNITS["en"] + 10
    assert count_units(task.source) > count_units(data)  # checks see the whole source


def test_ad_copy_and_product_prompts_hold_every_fact() -> None:
    ad = prepare_ad_copy(
        AdCopyRequest(
            "Trailblazer 2 running shoe",
            "Lightweight trail shoe with a Vibram sole. Weighs 280 g.",
            "trail runners aged 25-40",
            campaign="20% off until 31 May",
        )
    )
    data = ad.messages[-1].content.split(DATA_CLOSE)[0]
    for fact in ("Trailblazer 2", "Vibram", "280 g", "25-40", "20% off"):
        assert fact in data
    product = prepare_product_description(
        ProductDescriptionRequest.from_mapping(
            "Trailblazer 2", {"colour": "red", "weight": "280 g", "empty": ""}
        )
    )
    data = product.messages[-1].content.split(DATA_CLOSE)[0]
    assert "- colour: red" in data and "- weight: 280 g" in data and "empty" not in data


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Here's a summary of the article:\n\nLula met Hu. They ate.", "Lula met Hu. They ate."),
        ("Summary: Lula met Hu.", "Lula met Hu."),
        ('"Lula met Hu."', "Lula met Hu."),
        ("Lula met Hu. They ate barbecue and then the", "Lula met Hu."),  # cut by max_tokens
        ("摘要：胡锦涛与卢拉共进午餐。双方讨论了贸易", "胡锦涛与卢拉共进午餐。"),
    ],
)
def test_prose_postprocessing(raw: str, expected: str, articles: list[dict[str, Any]]) -> None:
    a = articles[0]
    task = prepare_summary(SummaryRequest(a["title"], a["body"]))
    assert task.postprocess(raw) == [expected]


def test_prose_postprocessing_keeps_whole_sentences_within_budget(
    articles: list[dict[str, Any]],
) -> None:
    a = articles[0]
    task = prepare_summary(SummaryRequest(a["title"], a["body"], max_length=6))
    assert task.postprocess("Lula met Hu today. They ate barbecue together.") == [
        "Lula met Hu today."
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1. Lula hosts Hu for barbecue", "Lula hosts Hu for barbecue"),
        ('Headline: "Lula hosts Hu."\n\nMore text follows', "Lula hosts Hu"),
        ("**Title:** Lula hosts Hu", "Lula hosts Hu"),
        ("\n\n- Lula hosts Hu", "Lula hosts Hu"),
        ("标题：卢拉宴请胡锦涛。", "卢拉宴请胡锦涛"),
        ("   ", None),
    ],
)
def test_headline_postprocessing(
    raw: str, expected: str | None, articles: list[dict[str, Any]]
) -> None:
    a = articles[0]
    task = prepare_headlines(HeadlineRequest(a["title"], a["body"]))
    assert task.postprocess(raw) == ([expected] if expected else [])


def test_requests_name_the_bad_field() -> None:
    with pytest.raises(InvalidInput, match="body"):
        SummaryRequest("", "  ")
    with pytest.raises(InvalidInput, match="interests"):
        SummaryRequest("t", "b", interests="sports")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="max_length"):
        SummaryRequest("t", "b", max_length=0)
    with pytest.raises(InvalidInput, match="'n'"):
        HeadlineRequest("t", "b", n=0)
    with pytest.raises(InvalidInput, match="audience"):
        AdCopyRequest("shoe", "d", audience="")
    with pytest.raises(InvalidInput, match="attributes"):
        ProductDescriptionRequest("shoe", (("colour",),))  # type: ignore[arg-type]
