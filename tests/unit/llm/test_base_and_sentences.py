"""The backend contract's value types, sentence splitting and length units."""

from __future__ import annotations

import pytest

from feedcraft.errors import InvalidInput
from feedcraft.llm import Message, SamplingParams, make_backend
from feedcraft.llm.base import check_messages, delta_text, parse_completion, request_body
from feedcraft.llm.sentences import count_units, split_sentences, truncate_units


def test_sampling_params_validate_every_field() -> None:
    SamplingParams(max_tokens=1, temperature=0.0, seed=0, stop=("\n",))
    for kwargs, field in [
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"seed": -1}, "seed"),
        ({"stop": "\n"}, "stop"),
        ({"stop": ("",)}, "stop"),
        ({"stop": ("a", "b", "c", "d", "e")}, "stop"),
    ]:
        with pytest.raises(InvalidInput, match=field):
            SamplingParams(**kwargs)  # type: ignore[arg-type]


def test_messages_are_checked_before_any_backend_sees_them() -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        check_messages([])
    with pytest.raises(InvalidInput, match="string"):
        check_messages("hello")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="role"):
        check_messages([Message("robot", "x")])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="last message"):
        check_messages([Message("user", "q"), Message("assistant", "a")])


def test_request_body_is_the_openai_shape() -> None:
    body = request_body(
        [Message("system", "s"), Message("user", "u")],
        SamplingParams(max_tokens=5, temperature=0.5, seed=7, stop=("END",)),
    )
    assert body == {
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
        "max_tokens": 5,
        "temperature": 0.5,
        "seed": 7,
        "stop": ["END"],
    }
    assert "seed" not in request_body([Message("user", "u")], SamplingParams())


def test_make_backend_reads_specs() -> None:
    assert make_backend("extractive") is None
    http = make_backend("http://127.0.0.1:9/v1", model="m")
    assert http is not None and http.name == "openai:m@http://127.0.0.1:9/v1"
    with pytest.raises(InvalidInput, match="backend"):
        make_backend("gpt-17")
    with pytest.raises(InvalidInput, match="backend"):
        make_backend(" ")
    upper = make_backend("HTTP://127.0.0.1:9/v1")  # a scheme is case-insensitive
    assert upper is not None and upper.name.startswith("openai:default@")
    with pytest.raises(InvalidInput, match="backend") as unknown:
        make_backend("ftp://alice:hunter2pw@h/x?key=sk-SECRET")
    assert "hunter2pw" not in str(unknown.value) and "SECRET" not in str(unknown.value)


def test_an_http_timeout_is_bounded() -> None:
    from pydantic import ValidationError

    from feedcraft.config import LLMSettings

    with pytest.raises(ValidationError, match="timeout_s"):
        LLMSettings(timeout_s=float("inf"))


@pytest.mark.parametrize("context", [1024, 3_000_000_000])
def test_the_context_fits_the_prompts_and_llama_cpp(context: int) -> None:
    """Below ~1,700 tokens every prompt overflowed and went to the fallback; past int32,
    llama.cpp's parameter raised OverflowError out of the request."""
    from pydantic import ValidationError

    from feedcraft.config import LLMSettings

    with pytest.raises(ValidationError, match="context"):
        LLMSettings(context=context)


def test_settings_build_the_configured_backend() -> None:
    from feedcraft.config import LLMSettings, load_settings
    from feedcraft.embeddings import HashingEncoder
    from feedcraft.llm import LlamaCppBackend, OpenAICompatibleBackend, generator_from_settings
    from feedcraft.llm.factory import backend_from_settings

    assert load_settings().llm == LLMSettings()
    embedded = backend_from_settings(LLMSettings(threads=1, context=2048))
    assert isinstance(embedded, LlamaCppBackend) and embedded.n_threads == 1
    assert embedded.swa_full  # the few-shot examples are reused between requests
    lean = backend_from_settings(LLMSettings(swa_full=False))
    assert isinstance(lean, LlamaCppBackend) and not lean.swa_full
    http = backend_from_settings(
        LLMSettings(backend="http://127.0.0.1:9", model="m", timeout_s=3, max_retries=0)
    )
    assert isinstance(http, OpenAICompatibleBackend)
    assert (http.model, http.timeout, http.max_retries) == ("m", 3, 0)
    gen = generator_from_settings(
        LLMSettings(backend="extractive", max_attempts=3, banned_terms=["x"], max_pending=9),
        HashingEncoder(),
    )
    assert gen.backend is None and gen.max_attempts == 3 and gen.admission.max_pending == 9
    assert gen.guardrails.banned_terms == ("x",)


def test_english_sentences_respect_abbreviations_and_initials() -> None:
    text = (
        "Mr. Smith went to Washington, D.C. on Monday. He met U.S. officials! "
        '"Great," he said. Prices rose 3.5% in 2004.\nA new paragraph'
    )
    assert split_sentences(text) == [
        "Mr. Smith went to Washington, D.C. on Monday.",
        "He met U.S. officials!",
        '"Great," he said.',
        "Prices rose 3.5% in 2004.",
        "A new paragraph",
    ]


def test_chinese_sentences_split_on_chinese_and_ascii_marks() -> None:
    assert split_sentences("他說：「好！」然後離開了……最後？是的；完成") == [
        "他說：「好！」",
        "然後離開了……",
        "最後？",
        "是的；",
        "完成",
    ]
    # machine-translated xMIND text ends sentences with ASCII full stops (invented text in
    # its style: xMIND's own may not be copied here)
    assert split_sentences("它們看起來無害. 這篇報導最早刊登在本地週報上.價格是3.5元") == [
        "它們看起來無害.",
        "這篇報導最早刊登在本地週報上.",
        "價格是3.5元",
    ]


def test_units_count_words_and_han_characters() -> None:
    assert count_units("The cat sat.") == 3
    assert count_units("在DEA的回收日") == 6  # 5 characters + one Latin word
    assert count_units(" ,. ") == 0
    assert truncate_units("one two three four", 2) == "one two…"
    assert truncate_units("one two", 2) == "one two"
    assert truncate_units("在NBA的決賽日登場", 3) == "在NBA的…"
    assert truncate_units("anything", 0) == ""


def test_parse_completion_joins_text_parts_and_names_what_is_malformed() -> None:
    parts = [{"type": "text", "text": "a "}, {"type": "text", "text": "b"}]
    answer = {"choices": [{"message": {"content": parts}, "finish_reason": 3}]}
    answer["usage"] = {"prompt_tokens": "10", "completion_tokens": 2}
    completion = parse_completion(answer, "x", 1.0)
    assert (completion.text, completion.finish_reason) == ("a b", None)
    assert (completion.prompt_tokens, completion.completion_tokens) == (None, 2)
    assert parse_completion({"choices": [{"text": None}]}, "x", 0).text == ""
    for payload, why in [
        ([], "the answer is list"),
        ({"choices": []}, "non-empty list"),
        ({"choices": ["a"]}, r"choices\[0\] is str"),
        ({"choices": [{"message": "hi"}]}, r"choices\[0\].message is str"),
        ({"choices": [{"message": {"content": {"text": "a"}}}]}, "content is dict"),
        ({"choices": [{"message": {"content": [{"type": "refusal"}]}}]}, "part 0"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_completion(payload, "x", 0)
    assert delta_text({"choices": [{"delta": {"content": parts}}, {"delta": None}]}) == "a b"
    assert delta_text({"choices": None}) == ""
    with pytest.raises(ValueError, match=r"choices\[0\].delta is list"):
        delta_text({"choices": [{"delta": []}]})


def test_embedded_runtime_errors_become_unavailable() -> None:
    """xllamacpp raises RuntimeError for some refused requests (C++ std::runtime_error): it
    must reach the generator as a FeedcraftError so that the fallback answers, not a 500."""
    pytest.importorskip("xllamacpp")
    from llmtesting import THREADS

    from feedcraft.errors import Unavailable
    from feedcraft.llm import LlamaCppBackend

    roleless = {"messages": [{"content": "hi"}]}  # llama.cpp: "Missing 'role' in message"
    backend = LlamaCppBackend("smollm2", n_threads=THREADS, n_ctx=2048, extra_body=roleless)
    with pytest.raises(Unavailable, match="RuntimeError: Failed to parse messages"):
        backend.chat([Message("user", "hi")], SamplingParams(max_tokens=2))
