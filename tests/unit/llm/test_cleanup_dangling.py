"""The dangling last word a token limit leaves on a model's headline, by language.

English function words ("and", "of") were dropped from headlines in any language, cutting
good ones whose last word only looks English; Chinese conjunctions ("和", "以及") were
kept. The language is the item's when the caller passes it, else the headline's own.
"""

from __future__ import annotations

import pytest

from feedcraft.llm.cleanup import postprocess_headline


@pytest.mark.parametrize("language", ["en", "en-US", None])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Storm hits coast, killing three and", "Storm hits coast, killing three"),
        ("Storm batters the coast of the", "Storm batters the coast"),
        ("Storm hits coast, but", "Storm hits coast"),
    ],
)
def test_an_english_headline_loses_its_dangling_function_word(
    raw: str, expected: str, language: str | None
) -> None:
    assert postprocess_headline(raw, language) == [expected]


@pytest.mark.parametrize(
    ("raw", "language"),
    [
        ("Le bitcoin, nouvel or", "fr"),  # "or" is gold
        ("Le bitcoin, nouvel or", None),
        ("Danmark fejrer Anders And", "da"),  # Donald Duck
        ("La lluvia no para", "es"),  # "para" also means "stops"
    ],
)
def test_a_headline_in_another_language_keeps_its_english_looking_last_word(
    raw: str, language: str | None
) -> None:
    assert postprocess_headline(raw, language) == [raw]


@pytest.mark.parametrize("language", ["zh", "zh_CN", None])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("国务院发布新规，涉及教育和", "国务院发布新规，涉及教育"),
        ("市政府宣布增加基础设施投资以及", "市政府宣布增加基础设施投资"),
        ("一季度失业率小幅上升，但", "一季度失业率小幅上升"),
        ("外长会见土耳其与", "外长会见土耳其"),
        ("台风登陆沿海地区或，", "台风登陆沿海地区"),
    ],
)
def test_a_chinese_headline_loses_its_dangling_conjunction(
    raw: str, expected: str, language: str | None
) -> None:
    assert postprocess_headline(raw, language) == [expected]


def test_a_traditional_chinese_headline_loses_its_dangling_conjunction() -> None:
    assert postprocess_headline("外長會見土耳其與", "zh-TW") == ["外長會見土耳其"]


@pytest.mark.parametrize("language", ["zh", None])
@pytest.mark.parametrize(
    "raw",
    [
        "中美关系趋于缓和",  # ease
        "市民踊跃参与",  # take part
        "新冠疫苗加速普及",  # spread
        "市场需求趋于饱和",  # saturated
        "地铁一号线和二号线将合并",
        "和",  # nothing would be left
    ],
)
def test_a_chinese_headline_ending_on_a_longer_word_is_kept(raw: str, language: str | None) -> None:
    assert postprocess_headline(raw, language) == [raw]


def test_the_items_language_decides_where_the_headline_is_too_short_to_tell() -> None:
    """Four Danish words read as English by script alone: only the caller knows better."""
    assert postprocess_headline("Tegneserie med Anders And", "da") == ["Tegneserie med Anders And"]


def test_the_headline_task_passes_the_items_language_to_the_cleanup() -> None:
    from feedcraft.llm.task_requests import HeadlineRequest
    from feedcraft.llm.tasks import prepare_headlines

    body = "Anders And fylder 90 år, og tegneserien udkommer stadig hver uge i Danmark."
    danish = prepare_headlines(HeadlineRequest("Anders And", body, language="da"))
    assert danish.postprocess("Tegneserie med Anders And") == ["Tegneserie med Anders And"]
    english = prepare_headlines(HeadlineRequest("Storm", "A storm hit the coast.", language="en"))
    assert english.postprocess("Storm hits the coast and") == ["Storm hits the coast"]
