"""The generator: guardrails decide, a retry uses another seed, the fallback answers last.

Model answers are scripted by a real HTTP server on loopback (see llmtesting.ScriptedServer),
so each path is deterministic; the real model runs in test_embedded.py and test_http.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from llmtesting import Reply, ScriptedServer

from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput
from feedcraft.llm import (
    AdCopyRequest,
    Generator,
    Guardrails,
    HeadlineRequest,
    OpenAICompatibleBackend,
    ProductDescriptionRequest,
    SummaryRequest,
)
from feedcraft.llm.generator import variant_key

GOOD = "Hu Jintao had lunch with Luiz Inácio Lula da Silva at the Granja do Torto."


@pytest.fixture
def article(articles: list[dict[str, Any]]) -> dict[str, Any]:
    return articles[0]  # Hu Jintao lunches with Lula


def _generator(url: str, hashing: HashingEncoder, **kwargs: Any) -> Generator:
    backend = OpenAICompatibleBackend(url, model="scripted", max_retries=0, backoff=0)
    rails = Guardrails(hashing, min_similarity=0.1, banned_terms=kwargs.pop("banned", ()))
    return Generator(backend, hashing, guardrails=rails, seed=5, **kwargs)


def test_a_passing_answer_is_used(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    scripted_server.replies = [Reply(f"Here is a summary:\n{GOOD}")]
    result = _generator(scripted_server.url, hashing).summary(
        SummaryRequest(article["title"], article["body"], ("Brazil",))
    )
    assert result.outputs == (GOOD,)
    assert result.backend == f"openai:scripted@{scripted_server.url}" and not result.fallback
    assert (result.attempts, result.calls, result.failed_checks) == (1, 1, ())
    assert scripted_server.requests[0]["seed"] == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.attempts = 3  # type: ignore[misc]


def test_a_failed_answer_is_retried_with_another_seed(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    scripted_server.replies = [Reply("Hu Jintao had lunch with Lula in 2019."), Reply(GOOD)]
    result = _generator(scripted_server.url, hashing).summary(
        SummaryRequest(article["title"], article["body"])
    )
    assert result.outputs == (GOOD,) and not result.fallback
    assert (result.attempts, result.calls) == (2, 2)
    assert result.failed_checks == ("numbers",)
    assert result.failures == ("attempt 1: numbers: not in the source: 2019",)
    seeds = [r["seed"] for r in scripted_server.requests]
    assert seeds[0] != seeds[1]


def test_two_failures_fall_back_to_extractive(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    scripted_server.replies = [
        Reply("Angela Merkel had lunch with Lula."),
        Reply("Lula had lunch and then the"),
    ]
    result = _generator(scripted_server.url, hashing).summary(
        SummaryRequest(article["title"], article["body"], max_length=40)
    )
    assert result.fallback and result.backend == "extractive:hashing-256"
    assert result.produced_by == ("extractive:hashing-256",)
    assert result.attempts == 2 and result.calls == 2
    assert set(result.failed_checks) >= {"entities", "format"}
    assert result.text.startswith("Hu Jintao, the President")
    assert result.fallback_failed_checks == ()


def test_banned_terms_trigger_the_fallback(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    scripted_server.replies = [Reply(GOOD), Reply(GOOD)]
    result = _generator(scripted_server.url, hashing, banned=["Granja"]).summary(
        SummaryRequest(article["title"], article["body"], max_length=20)
    )
    assert result.fallback and result.failed_checks == ("banned_terms",)


def test_the_fallback_never_serves_a_banned_term(
    hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    """The fallback quotes the source: a sentence of it with a banned term is dropped (the
    rest is served), and an output left with nothing servable is not served at all."""
    rails = Guardrails(hashing, min_similarity=0.1, banned_terms=["barbecue"])
    gen = Generator(None, hashing, guardrails=rails)
    body = "Hu Jintao had lunch with Lula today. Lunch was a Brazilian barbecue. They talked."
    result = gen.summary(SummaryRequest("Hu Jintao has lunch with Lula", body, max_length=40))
    assert result.outputs and "barbecue" not in result.text.casefold()
    assert "banned_terms" in result.fallback_failed_checks
    heads = gen.headlines(HeadlineRequest("Barbecue for Hu Jintao", "A barbecue was held.", n=2))
    assert all("barbecue" not in h.casefold() for h in heads.outputs)
    assert "banned_terms" in heads.fallback_failed_checks


def test_an_unreachable_backend_falls_back_at_once(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    scripted_server.replies = [Reply(status=503)] * 5
    result = _generator(scripted_server.url, hashing).summary(
        SummaryRequest(article["title"], article["body"])
    )
    assert result.fallback and result.failed_checks == ("backend",)
    assert result.attempts == 1 and result.calls == 0
    assert len(scripted_server.requests) == 1  # max_retries=0 and no second attempt


def test_headline_slots_are_filled_by_model_then_fallback(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    scripted_server.replies = [
        Reply("1. Hu Jintao lunches with Lula"),
        Reply("Hu Jintao lunches with Lula"),  # duplicate: rejected
        Reply("Merkel visits Granja do Torto"),  # invented name: rejected
        Reply("Brazilian barbecue for Hu Jintao"),
        Reply("Hu Jintao lunches with Lula"),
    ]
    result = _generator(scripted_server.url, hashing).headlines(
        HeadlineRequest(article["title"], article["body"], n=3)
    )
    model = f"openai:scripted@{scripted_server.url}"
    assert result.outputs[:2] == ("Hu Jintao lunches with Lula", "Brazilian barbecue for Hu Jintao")
    assert result.produced_by == (model, model, "extractive:hashing-256")
    assert result.outputs[2] == article["title"]
    assert result.backend == model and result.fallback
    assert result.calls == 5 and result.attempts == 2
    assert "format" in result.failed_checks and "entities" in result.failed_checks


def test_wrong_language_for_chinese_source_falls_back_to_chinese(
    scripted_server: ScriptedServer,
    hashing: HashingEncoder,
    chinese_items: list[tuple[str, str]],
) -> None:
    title, abstract = chinese_items[0]
    scripted_server.replies = [Reply("This is an English summary."), Reply("Also English.")]
    result = _generator(scripted_server.url, hashing).summary(SummaryRequest(title, abstract))
    assert result.language == "zh" and result.fallback
    assert "language" in result.failed_checks
    assert sum(1 for ch in result.text if "\u4e00" <= ch <= "\u9fff") > len(result.text) / 3


def test_extractive_only_generator_answers_every_task(
    hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    gen = Generator(None, hashing, guardrails=Guardrails(hashing, min_similarity=0.1))
    results = [
        gen.summary(SummaryRequest(article["title"], article["body"], ("barbecue",), 30)),
        gen.headlines(HeadlineRequest(article["title"], article["body"], n=2)),
        gen.ad_copy(
            AdCopyRequest(
                "Trailblazer 2",
                "A lightweight trail shoe with a Vibram sole. It weighs 280 g.",
                "trail runners",
                campaign="20% off until 31 May",
            )
        ),
        gen.product_description(
            ProductDescriptionRequest.from_mapping(
                "Trailblazer 2", {"colour": "red", "weight": "280 g", "sole": "Vibram"}
            )
        ),
    ]
    for r in results:
        assert r.backend == "extractive:hashing-256" and r.attempts == 0 and r.calls == 0
        assert r.outputs and all(r.outputs)
        assert r.fallback_failed_checks == (), (r.task, r.fallback_failed_checks)
    assert "barbecue" in results[0].text
    assert len(results[1].outputs) == 2
    assert results[2].text.startswith("Trailblazer 2: ")
    assert results[3].text == "Trailblazer 2. Colour: red. Weight: 280 g. Sole: Vibram."


def test_generator_settings_are_validated(hashing: HashingEncoder) -> None:
    with pytest.raises(InvalidInput, match="max_attempts"):
        Generator(None, hashing, max_attempts=0)
    with pytest.raises(InvalidInput, match="seed"):
        Generator(None, hashing, seed=-1)


def test_a_retry_asks_again_only_for_the_missing_output(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    """Headline 1 fails and headline 2 passes: the retry re-asks headline 1's prompt (sampled
    now), not headline 2's, whose answer could only be a duplicate."""
    backend = OpenAICompatibleBackend(
        scripted_server.url, model="base", max_retries=0, backoff=0, prompt_style="completion"
    )
    rails = Guardrails(hashing, min_similarity=0.1)
    gen = Generator(backend, hashing, guardrails=rails, seed=5)
    scripted_server.replies = [
        Reply(" Hu Jintao lunches with Lula in 2099"),
        Reply(" Lula hosts Hu Jintao at the Granja do Torto"),
        Reply(" Brazilian barbecue for Hu Jintao"),
    ]
    result = gen.headlines(HeadlineRequest(article["title"], article["body"], n=2))
    first, second, retry = scripted_server.requests
    assert retry["prompt"] == first["prompt"] != second["prompt"]
    assert (first["temperature"], second["temperature"]) == (0.0, 0.0)
    assert retry["temperature"] > 0
    assert [r["seed"] for r in (first, second, retry)] == [5, 6, 1005]
    assert result.outputs == (
        "Brazilian barbecue for Hu Jintao",  # slot 1's retry: outputs keep slot order
        "Lula hosts Hu Jintao at the Granja do Torto",
    )
    assert not result.fallback and (result.attempts, result.calls) == (2, 3)
    assert result.failures == ("attempt 1: numbers: not in the source: 2099",)


def test_variants_differing_only_in_punctuation_or_spacing_are_duplicates(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    scripted_server.replies = [
        Reply("Hu Jintao lunches with Lula"),
        Reply("Hu Jintao lunches with Lula!"),
        Reply("Hu Jintao  lunches with Lula\u2026"),
        Reply("HU JINTAO LUNCHES WITH LULA"),
        Reply("Brazilian barbecue for Hu Jintao"),
    ]
    result = _generator(scripted_server.url, hashing).headlines(
        HeadlineRequest(article["title"], article["body"], n=3)
    )
    model = f"openai:scripted@{scripted_server.url}"
    assert result.outputs[:2] == ("Hu Jintao lunches with Lula", "Brazilian barbecue for Hu Jintao")
    assert result.produced_by == (model, model, "extractive:hashing-256")
    assert sum("duplicate" in f for f in result.failures) == 3
    assert len({variant_key(o) for o in result.outputs}) == 3


def test_a_variant_contained_in_another_is_a_duplicate(
    scripted_server: ScriptedServer, hashing: HashingEncoder, article: dict[str, Any]
) -> None:
    """gemma3 wrote "强台风周一晚间在沿海地区登陆" after the same with "，带来狂风暴雨":
    one headline cut short is not a second variant, either way round."""
    scripted_server.replies = [
        Reply("Brazilian barbecue for Hu Jintao and Lula"),
        Reply("Brazilian barbecue for Hu Jintao"),
        Reply("A Brazilian barbecue for Hu Jintao and Lula today"),
    ]
    result = _generator(scripted_server.url, hashing).headlines(
        HeadlineRequest(article["title"], article["body"], n=2)
    )
    assert result.outputs == ("Brazilian barbecue for Hu Jintao and Lula", article["title"])
    assert sum("duplicate" in f for f in result.failures) == 2 and result.calls == 3


def test_chinese_variants_are_compared_by_their_characters(
    scripted_server: ScriptedServer, hashing: HashingEncoder
) -> None:
    """Punctuation and width do not make a second variant; the Han characters do."""
    assert variant_key("地铁十号线将延长运营时间！") == variant_key("地铁十号线将延长运营时间")
    assert variant_key("地铁十号线，将延长 运营时间。") == variant_key("地铁十号线将延长运营时间")
    assert variant_key("地铁十号线下月延长运营") != variant_key("地铁十号线将延长运营时间")
    assert variant_key("ＡＢＣ！") == variant_key("abc") and variant_key("!!!") == ""
    body = (
        "北京市政府周三宣布，地铁十号线将在下个月延长运营时间。市民可以在晚上十二点之前乘坐末班车。"
    )
    scripted_server.replies = [
        Reply("地铁十号线将延长运营时间"),
        Reply("地铁十号线将延长运营时间！"),
        Reply("地铁十号线下月延长运营"),
    ]
    result = _generator(scripted_server.url, hashing).headlines(
        HeadlineRequest("地铁延长运营", body, n=2)
    )
    assert result.outputs == ("地铁十号线将延长运营时间", "地铁十号线下月延长运营")
    assert not result.fallback and result.failed_checks == ("format",)


def test_a_fallback_with_nothing_servable_is_a_reported_fallback(hashing: HashingEncoder) -> None:
    """Every sentence mentions a banned term: nothing is served, and the result says the
    fallback was needed and why it gave nothing, rather than reading as a model success."""
    rails = Guardrails(hashing, min_similarity=0.1, banned_terms=["rain"])
    gen = Generator(None, hashing, guardrails=rails)
    body = "Rain fell. More rain came. The rain stopped."
    summary = gen.summary(SummaryRequest("Rain again", body))
    heads = gen.headlines(HeadlineRequest("Rain again", body, n=2))
    for result, n in ((summary, 1), (heads, 2)):
        assert result.outputs == () and result.text == ""
        assert result.fallback and result.unfilled == n
        assert result.backend == "extractive:hashing-256"
        assert result.fallback_failed_checks == ("banned_terms",)
        assert result.failures == (f"fallback: {n} of {n} outputs unfilled: banned_terms",)


def test_a_model_output_with_an_unfillable_rest_is_still_a_fallback(
    scripted_server: ScriptedServer, hashing: HashingEncoder
) -> None:
    body = "Rain fell on Springfield on Monday. More rain came to Springfield. The rain stopped."
    scripted_server.replies = [Reply("Springfield sees a wet Monday"), Reply("Rain"), Reply("")]
    result = _generator(scripted_server.url, hashing, banned=["rain"]).headlines(
        HeadlineRequest("Rain again in Springfield", body, n=2)
    )
    model = f"openai:scripted@{scripted_server.url}"
    assert result.outputs == ("Springfield sees a wet Monday",)
    assert result.produced_by == (model,) and result.backend == model
    assert result.fallback and result.unfilled == 1
    assert "banned_terms" in result.fallback_failed_checks
