"""A product description labels the item's category and tags in the item's language."""

from __future__ import annotations

import pytest

from feedcraft.config import Settings
from feedcraft.domain import Item, ItemKind
from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Generator
from feedcraft.services.generation import GenerationService
from feedcraft.storage import Store

ITEMS = [
    Item(
        id="z1",
        title="城市公园周末举办春季花展",
        body="本市中央公园将于本周末举办春季花展。",
        category="生活",
        tags=("花展", "公园"),
        language="zh",
    ),
    # no language field: Chinese by its script
    Item(
        id="z2",
        title="新款电动自行车",
        kind=ItemKind.PRODUCT,
        category="交通",
        attributes={"颜色": "红色", "价格": "2999元"},
    ),
    Item(
        id="t1",
        title="城市公園週末舉辦春季花展",
        category="生活",
        tags=("花展", "公園"),
        language="zh-TW",
    ),
    Item(
        id="e1",
        title="Red running shoes",
        kind=ItemKind.PRODUCT,
        category="shoes",
        tags=("running", "trail"),
        attributes={"color": "red", "size": "42"},
    ),
]


@pytest.fixture
def service(store: Store, llm_settings: Settings) -> GenerationService:
    """The extractive fallback writes the description: the text a reader gets without a model."""
    store.catalogue.upsert(ITEMS)
    encoder = HashingEncoder(256)
    return GenerationService(store, llm_settings, encoder, generator=Generator(None, encoder))


@pytest.mark.parametrize(
    ("item_id", "expected"),
    [
        pytest.param("z1", "城市公园周末举办春季花展。类别：生活。标签：花展、公园。", id="zh"),
        pytest.param(
            "z2", "新款电动自行车。类别：交通。价格：2999元。颜色：红色。", id="zh-script"
        ),
        pytest.param("t1", "城市公園週末舉辦春季花展。類別：生活。標籤：花展、公園。", id="zh-TW"),
        pytest.param(
            "e1",
            "Red running shoes. Category: shoes. Tags: running, trail. Color: red. Size: 42.",
            id="en",
        ),
    ],
)
def test_category_and_tags_are_labelled_in_the_items_language(
    service: GenerationService, item_id: str, expected: str
) -> None:
    assert service.product_description(item_id).outputs == (expected,)
