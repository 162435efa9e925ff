"""The extractive fallback on messy bodies: outsized, listed, repetitive.

Whatever the model's prompt leaves out, the fallback sees the whole body, so it must stay
cheap on a huge one and must not serve list numbers, bullet markers or a line three times.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence
from typing import Any

import numpy as np

from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import ExtractiveSummarizer, Generator, HeadlineRequest, SummaryRequest
from feedcraft.llm.extractive import MAX_SENTENCES

COUNCIL = (
    "Council approves budget.\n"
    "1. Schools get more money.\n"
    "2. Roads are repaired.\n"
    "3. Taxes stay flat."
)
KEY_POINTS = "Key points:\n- Schools get more money\n- Roads are repaired\n- Taxes stay flat"


class CountingEncoder(HashingEncoder):
    """A real encoder that remembers how many texts it was asked to encode."""

    def __init__(self) -> None:
        super().__init__(256)
        self.encoded = 0

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode(texts, batch_size, show_progress)


def _huge_body(n: int) -> str:
    return " ".join(f"Report {i} says the council met on day {i} about item {i}." for i in range(n))


def test_a_huge_body_ranks_only_its_leading_sentences() -> None:
    encoder = CountingEncoder()
    ex = ExtractiveSummarizer(encoder)
    body = _huge_body(5_000)
    summary = ex.summarize(body, 60)
    assert summary.startswith("Report 0 says")  # the lead still counts
    assert encoder.encoded <= MAX_SENTENCES
    encoder.encoded = 0
    heads = ex.headlines("Council meets", body, 3, 12)
    assert len(heads) == 3 and encoder.encoded <= MAX_SENTENCES


def test_ranking_memory_grows_linearly_not_with_the_square() -> None:
    """4,000 sentences: an n x n float64 matrix alone would take 128 MB."""
    ex = ExtractiveSummarizer(HashingEncoder(256))
    ex.summarize("Warm up the encoder. It loads its stopwords once.", 5)
    sentences = [f"Report {i} says the council met on day {i}." for i in range(4_000)]
    body = _huge_body(6_000)  # ~400 kB on one line
    tracemalloc.start()
    try:
        ex.select(sentences, 60)
        selecting = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        ex.summarize(body, 60)
        summarizing = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert selecting < 4_000 * 256 * 8 * 4  # a few copies of the vectors, no matrix
    assert summarizing < 4_000_000


def test_centrality_is_the_mean_cosine_to_the_other_sentences(
    hashing: HashingEncoder, articles: list[dict[str, Any]]
) -> None:
    """Computed without the pairwise matrix, it equals the pairwise definition."""
    ex = ExtractiveSummarizer(hashing, lead_weight=0.0)
    for article in articles[:10]:
        sentences = [s for s in article["body"].split(". ") if s.strip()]
        if len(sentences) < 2:
            continue
        vectors = hashing.encode(sentences).astype(np.float64)
        sims = vectors @ vectors.T
        expected = (sims.sum(axis=1) - np.diag(sims)) / (len(sentences) - 1)
        np.testing.assert_allclose(ex.scores(sentences), expected, atol=1e-12)


def test_list_numbers_are_never_served(hashing: HashingEncoder) -> None:
    gen = Generator(None, hashing)
    heads = gen.headlines(HeadlineRequest(title="Council approves budget", body=COUNCIL, n=5))
    # four distinct texts in the source, so four headlines
    assert heads.outputs == (
        "Council approves budget",
        "Schools get more money",
        "Roads are repaired",
        "Taxes stay flat",
    )
    summary = gen.summary(SummaryRequest(title="Council approves budget", body=COUNCIL))
    assert summary.outputs == (
        "Council approves budget. Schools get more money. Roads are repaired. Taxes stay flat.",
    )


def test_a_piece_without_letters_is_never_served(hashing: HashingEncoder) -> None:
    ex = ExtractiveSummarizer(hashing)
    body = "Floods hit the region.\n---\n2.\n[\n2,000."
    assert ex.summarize(body, 40) == "Floods hit the region."
    assert ex.headlines("", body, 4, 6) == ["Floods hit the region"]


def test_exact_repeats_are_served_once(hashing: HashingEncoder) -> None:
    body = (
        "The council met on Tuesday to discuss the budget.\n"
        "Subscribe to our newsletter.\n"
        "The budget grows by a tenth next year.\n"
        "SUBSCRIBE to our  newsletter!\n"
        "Roads in the north will be repaired first.\n"
        "subscribe to our newsletter"
    )
    summary = ExtractiveSummarizer(hashing).summarize(body, 40)
    assert summary.casefold().count("subscribe") <= 1
    assert "Roads in the north" in summary


def test_bullet_items_read_as_sentences(hashing: HashingEncoder) -> None:
    ex = ExtractiveSummarizer(hashing)
    assert ex.summarize(KEY_POINTS, 20) == (
        "Schools get more money. Roads are repaired. Taxes stay flat."
    )
    # a lower-case item is an item, not a sentence cut at its start
    assert ex.summarize("* schools get more money", 20) == "Schools get more money."
    # "iPhone" keeps its case and is no cut; an item's later sentence does not open the item
    assert ex.summarize("• iPhone sales rise. [ shops report a slow may", 20) == (
        "iPhone sales rise. …[ shops report a slow may."
    )


def test_bullet_items_count_as_headlines(hashing: HashingEncoder) -> None:
    gen = Generator(None, hashing)
    result = gen.headlines(HeadlineRequest(title="Budget passes", body=KEY_POINTS, n=4))
    assert len(result.outputs) == 4
    assert result.outputs[0] == "Budget passes"
    assert set(result.outputs[1:]) == {
        "Schools get more money",
        "Roads are repaired",
        "Taxes stay flat",
    }


def test_chinese_list_items_read_as_chinese_sentences(hashing: HashingEncoder) -> None:
    body = "市议会通过了新预算。\n要点：\n1、学校获得更多资金\n2、道路得到修复\n（三）税收不变"
    ex = ExtractiveSummarizer(hashing)
    summary = ex.summarize(body, 60)
    assert summary == "市议会通过了新预算。学校获得更多资金。道路得到修复。税收不变。"
    heads = ex.headlines("预算获得通过", body, 4, 12)
    assert heads[0] == "预算获得通过" and len(heads) == 4
    assert not any(h[0].isdigit() or "、" in h for h in heads)


def test_an_outsized_chinese_body_is_cut_at_a_sentence_end(hashing: HashingEncoder) -> None:
    """Chinese has no spaces: cut at its last space, a 200 kB body kept only its dateline."""
    sentence = "市政府宣布地铁十号线将在下个月延长运营时间。"
    body = "本报讯 记者\n" + sentence * 9_200
    assert len(body) > 200_000
    assert ExtractiveSummarizer(hashing).summarize(body, 100) == sentence
