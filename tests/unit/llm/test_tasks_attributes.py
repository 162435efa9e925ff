"""Product data labelled in its language: the prompt the model reads and the fallback text."""

from __future__ import annotations

import pytest

from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Generator, Guardrails, ProductDescriptionRequest
from feedcraft.llm.attributes import is_traditional, localised_key
from feedcraft.llm.safety import DATA_CLOSE
from feedcraft.llm.tasks import prepare_product_description
from feedcraft.text.script import can_convert_traditional

SERVICE_KEYS = {"category": "交通", "tags": ["电动车", "通勤"], "价格": "2999元"}


def _data(request: ProductDescriptionRequest) -> str:
    return prepare_product_description(request).messages[-1].content.split(DATA_CLOSE)[0]


def _fallback(request: ProductDescriptionRequest) -> str:
    hashing = HashingEncoder(256)
    gen = Generator(None, hashing, guardrails=Guardrails(hashing, min_similarity=0.1))
    return gen.product_description(request).text


def test_chinese_data_gets_chinese_labels_and_list_separator() -> None:
    request = ProductDescriptionRequest.from_mapping("新款电动自行车", SERVICE_KEYS, language="zh")
    data = _data(request)
    assert "- 类别: 交通" in data and "- 标签: 电动车、通勤" in data
    assert "category" not in data.casefold() and "tags" not in data.casefold()
    assert _fallback(request) == "新款电动自行车。类别：交通。标签：电动车、通勤。价格：2999元。"


@pytest.mark.parametrize("language", ["zh-TW", "zh-Hant", "zh_HK"])
def test_traditional_chinese_by_its_language_tag(language: str) -> None:
    request = ProductDescriptionRequest.from_mapping(
        "新款電動自行車", {"category": "交通", "tags": ["通勤"]}, language=language
    )
    assert "- 類別: 交通" in _data(request) and "- 標籤: 通勤" in _data(request)
    assert _fallback(request) == "新款電動自行車。類別：交通。標籤：通勤。"


@pytest.mark.skipif(not can_convert_traditional(), reason="OpenCC is not installed")
def test_traditional_chinese_by_its_script() -> None:
    request = ProductDescriptionRequest.from_mapping("新款電動自行車", {"category": "交通"})
    assert _fallback(request) == "新款電動自行車。類別：交通。"
    assert is_traditional("新款電動自行車") and not is_traditional("新款电动自行车")
    assert not is_traditional("新款電動自行車", "zh-Hans")  # the tag decides


def test_english_data_keeps_its_keys() -> None:
    request = ProductDescriptionRequest.from_mapping(
        "Red running shoes", {"category": "shoes", "tags": ["running", "trail"]}
    )
    assert "- category: shoes" in _data(request) and "- tags: running, trail" in _data(request)
    assert _fallback(request) == "Red running shoes. Category: shoes. Tags: running, trail."


def test_only_the_services_keys_are_translated() -> None:
    assert localised_key("Category", "zh") == "类别"
    assert localised_key("tags", "zh", traditional=True) == "標籤"
    assert localised_key("category", "en") == "category"
    assert localised_key("颜色", "zh") == "颜色" and localised_key("colour", "zh") == "colour"
