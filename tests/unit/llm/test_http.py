"""The OpenAI-compatible HTTP backend against a real llama.cpp server process, plus retry,
timeout and error paths against a scripted server."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from llmtesting import Reply, ScriptedServer, free_port

from feedcraft.errors import InvalidInput, Unavailable
from feedcraft.llm import Message, OpenAICompatibleBackend, SamplingParams

QUESTION = [Message("user", "Name the capital of France in one word.")]


@pytest.mark.slow
def test_chat_and_stream_against_a_real_server(llama_server: str) -> None:
    with OpenAICompatibleBackend(llama_server, model="smollm2", timeout=120) as backend:
        params = SamplingParams(max_tokens=12, temperature=0.0, seed=1)
        backend.load()  # what a warming server does: one token, proving the server answers
        completion = backend.chat(QUESTION, params)
        assert completion.text.strip()
        assert completion.backend == f"openai:smollm2@{llama_server}"
        assert completion.completion_tokens and 0 < completion.completion_tokens <= 12
        assert completion.prompt_tokens and completion.prompt_tokens > 5
        assert completion.finish_reason in {"stop", "length"}
        pieces = list(backend.stream(QUESTION, params))
        assert len(pieces) > 1
        assert "".join(pieces) == completion.text  # greedy decoding: same text either way


@pytest.mark.slow
def test_stop_sequences_reach_the_server(llama_server: str) -> None:
    backend = OpenAICompatibleBackend(llama_server, timeout=120)
    prompt = [Message("user", "Count from 1 to 10, separated by commas.")]
    full = backend.chat(prompt, SamplingParams(max_tokens=40, temperature=0.0)).text
    assert "5" in full
    cut = backend.chat(prompt, SamplingParams(max_tokens=40, temperature=0.0, stop=("5",))).text
    assert "5" not in cut and full.startswith(cut.rstrip())


@pytest.mark.slow
def test_completion_prompts_against_a_real_server(llama_server: str) -> None:
    backend = OpenAICompatibleBackend(llama_server, timeout=120, prompt_style="completion")
    prompt = "Article: Heavy rain flooded roads in the north overnight.\nHeadline:"
    params = SamplingParams(max_tokens=16, temperature=0.0, stop=("\n",))
    completion = backend.complete(prompt, params)
    assert completion.text.strip() and "\n" not in completion.text.strip()
    assert completion.completion_tokens and 0 < completion.completion_tokens <= 16
    assert completion.backend == f"openai:default@{llama_server}/completion"


@pytest.mark.slow
def test_retries_until_a_starting_server_listens(start_llama_server: Any) -> None:
    """Connection refused while the model loads is retried; the call then succeeds."""
    port = free_port()
    backend = OpenAICompatibleBackend(
        f"http://127.0.0.1:{port}", timeout=120, max_retries=8, backoff=0.5, max_backoff=4
    )
    start_llama_server(port)
    completion = backend.chat(QUESTION, SamplingParams(max_tokens=4, temperature=0.0))
    assert completion.text.strip()


def test_5xx_answers_are_retried_with_backoff(scripted_server: ScriptedServer) -> None:
    scripted_server.replies = [Reply(status=503), Reply(status=500), Reply("Paris")]
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=2, backoff=0.2)
    start = time.perf_counter()
    assert backend.chat(QUESTION).text == "Paris"
    assert time.perf_counter() - start >= 0.2 + 0.4  # waited 0.2 s, then 0.4 s
    assert len(scripted_server.requests) == 3


def test_retries_run_out(scripted_server: ScriptedServer) -> None:
    scripted_server.replies = [Reply(status=502)] * 3
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=1, backoff=0)
    with pytest.raises(Unavailable, match="failed after 2 tries: HTTP 502"):
        backend.chat(QUESTION)


def test_4xx_is_not_retried(scripted_server: ScriptedServer) -> None:
    scripted_server.replies = [Reply(status=400), Reply("never")]
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=3, backoff=0)
    with pytest.raises(InvalidInput, match="HTTP 400"):
        backend.chat(QUESTION)
    assert len(scripted_server.requests) == 1


def test_a_slow_server_times_out(scripted_server: ScriptedServer) -> None:
    scripted_server.replies = [Reply("late", delay=2.0), Reply("late", delay=2.0)]
    backend = OpenAICompatibleBackend(scripted_server.url, timeout=0.3, max_retries=1, backoff=0)
    start = time.perf_counter()
    with pytest.raises(Unavailable, match="Timeout"):
        backend.chat(QUESTION)
    assert time.perf_counter() - start < 1.9  # gave up on both tries, not waiting them out


def test_the_total_timeout_bounds_a_call_with_its_retries_and_waits(
    scripted_server: ScriptedServer,
) -> None:
    """A hung server used to hold a call for (retries + 1) x timeout plus backoff."""
    scripted_server.replies = [Reply("late", delay=3.0)] * 4
    backend = OpenAICompatibleBackend(
        scripted_server.url, timeout=1.0, max_retries=3, backoff=0.2, total_timeout=1.5
    )
    start = time.perf_counter()
    with pytest.raises(Unavailable, match=r"after 2 tries: .*within 0\.[23]\d* s \(no time left"):
        backend.chat(QUESTION)
    assert 1.4 < time.perf_counter() - start < 3.0  # unbounded: 5.4 s (4 tries, 3 waits)
    scripted_server.replies = [
        Reply(body=_sse({"choices": [{"delta": {"content": "a"}}]}), delay=3)
    ]
    one = OpenAICompatibleBackend(scripted_server.url, timeout=5, max_retries=0, total_timeout=0.4)
    start = time.perf_counter()
    with pytest.raises(Unavailable, match=r"Timeout: no complete answer within 0\.4 s"):
        list(one.stream(QUESTION))
    assert time.perf_counter() - start < 2.0  # unbounded: the answer after 3 s
    with pytest.raises(InvalidInput, match="total_timeout"):
        OpenAICompatibleBackend(scripted_server.url, total_timeout=float("inf"))


def test_nothing_listening_is_unavailable() -> None:
    backend = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=1, backoff=0)
    with pytest.raises(Unavailable, match="ConnectError"):
        backend.chat(QUESTION)


@pytest.mark.parametrize(
    ("style", "path"), [("chat", "/v1/chat/completions"), ("completion", "/v1/completions")]
)
def test_load_asks_the_server_for_one_token_the_way_tasks_will(
    scripted_server: ScriptedServer, style: str, path: str
) -> None:
    backend = OpenAICompatibleBackend(scripted_server.url, model="m", prompt_style=style)
    backend.load()
    assert scripted_server.paths == [path]
    request = scripted_server.requests[0]
    assert request["max_tokens"] == 1 and request["model"] == "m"


def test_load_fails_on_a_refused_model_or_no_server(scripted_server: ScriptedServer) -> None:
    scripted_server.replies = [Reply(status=404), Reply("never")]
    backend = OpenAICompatibleBackend(scripted_server.url, model="nope", max_retries=2)
    with pytest.raises(InvalidInput, match="HTTP 404"):
        backend.load()
    assert len(scripted_server.requests) == 1  # a wrong model is not retried
    gone = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=1, backoff=0)
    with pytest.raises(Unavailable, match="failed after 2 tries: ConnectError"):
        gone.load()


def test_streaming_parses_server_sent_events(scripted_server: ScriptedServer) -> None:
    scripted_server.replies = [Reply("The capital is Paris.")]
    backend = OpenAICompatibleBackend(scripted_server.url, model="m", api_key="k")
    pieces = list(backend.stream(QUESTION, SamplingParams(max_tokens=8, seed=3)))
    assert "".join(pieces).strip() == "The capital is Paris."
    request = scripted_server.requests[0]
    assert request["stream"] is True and request["model"] == "m" and request["seed"] == 3


def test_urls_and_settings_are_validated() -> None:
    assert OpenAICompatibleBackend("http://h:1/v1/").endpoint == "http://h:1/v1/chat/completions"
    assert OpenAICompatibleBackend("http://h:1").endpoint == "http://h:1/v1/chat/completions"
    for kwargs, field in [
        ({"base_url": "ftp://h"}, "url"),
        ({"base_url": "http://h", "timeout": 0}, "timeout"),
        ({"base_url": "http://h", "max_retries": -1}, "max_retries"),
        ({"base_url": "http://h", "model": ""}, "model"),
    ]:
        with pytest.raises(InvalidInput, match=field):
            OpenAICompatibleBackend(**kwargs)


def _sse(*events: object) -> bytes:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    return "".join(lines).encode()


def _chat(content: object) -> bytes:
    return json.dumps(
        {"choices": [{"message": {"role": "assistant", "content": content}}]}
    ).encode()


def test_credentials_in_the_url_authenticate_but_never_show(
    scripted_server: ScriptedServer,
) -> None:
    port = scripted_server.url.rsplit(":", 1)[1]
    url = f"http://alice:s3cr%40t@127.0.0.1:{port}/gw/v1?api_key=sk-123456&x=1"
    backend = OpenAICompatibleBackend(url, model="m")
    public = f"http://127.0.0.1:{port}/gw/v1"
    assert backend.name == f"openai:m@{public}" and backend.base_url == public
    assert backend.endpoint == f"{public}/chat/completions?api_key=sk-123456&x=1"
    scripted_server.replies = [Reply("Paris"), Reply(status=400)]
    assert backend.chat(QUESTION).backend == f"openai:m@{public}"
    assert scripted_server.paths[0] == "/gw/v1/chat/completions?api_key=sk-123456&x=1"
    basic = base64.b64encode(b"alice:s3cr@t").decode()
    assert scripted_server.headers[0]["Authorization"] == f"Basic {basic}"
    with pytest.raises(InvalidInput) as refused:
        backend.chat(QUESTION)
    gone = OpenAICompatibleBackend(
        f"http://bob:pa55word@127.0.0.1:{free_port()}?api_key=sk-123456", max_retries=0
    )
    with pytest.raises(Unavailable) as unavailable:
        gone.chat(QUESTION)
    for text in (str(refused.value), str(unavailable.value), gone.name):
        assert not any(secret in text for secret in ("s3cr", "sk-123456", "pa55word", "alice"))
    with pytest.raises(InvalidInput, match="api_key"):
        OpenAICompatibleBackend("http://u:p@h:1", api_key="k")  # two Authorization headers
    with pytest.raises(InvalidInput, match="url") as bad:
        OpenAICompatibleBackend("ftp://u:hunter22@h:1")
    assert "hunter22" not in str(bad.value)


def test_a_trickling_server_is_cut_off_after_the_timeout(scripted_server: ScriptedServer) -> None:
    """Each read is quick, the answer never ends in time: the timeout bounds the whole try."""
    scripted_server.replies = [Reply(body=_chat("Paris " * 4), trickle=0.2)] * 2
    backend = OpenAICompatibleBackend(scripted_server.url, timeout=0.5, max_retries=1, backoff=0)
    start = time.perf_counter()
    with pytest.raises(Unavailable, match="failed after 2 tries: Timeout"):
        backend.chat(QUESTION)
    assert time.perf_counter() - start < 2 * 0.5 + 0.5
    event = {"choices": [{"delta": {"content": "a"}}]}  # 50 bytes, 0.25 s
    scripted_server.replies = [Reply(body=_sse(*[event] * 20), trickle=0.02)]
    pieces: list[str] = []
    start = time.perf_counter()
    with pytest.raises(Unavailable, match="Timeout"):
        pieces.extend(backend.stream(QUESTION))
    assert time.perf_counter() - start < 0.5 + 0.5 and 0 < len(pieces) < 20


def test_content_parts_are_joined_and_malformed_answers_are_unavailable(
    scripted_server: ScriptedServer,
) -> None:
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=0)
    parts = [{"type": "text", "text": "The capital "}, {"type": "text", "text": "is Paris."}]
    scripted_server.replies = [Reply(body=_chat(parts))]
    assert backend.chat(QUESTION).text == "The capital is Paris."
    for body, why in [
        (_chat([{"type": "refusal", "refusal": "no"}]), "content part 0"),
        (_chat(7), "content is int"),
        (b"[1]", "list, not an object"),
        (b'{"choices": {"0": 1}}', "choices"),
        (b'{"choices": [{"text": ["a"]}]}', "text is list"),
    ]:
        scripted_server.replies = [Reply(body=body)]
        with pytest.raises(Unavailable, match=why):
            backend.chat(QUESTION)
    delta = {"choices": [{"delta": {"content": parts}}]}
    scripted_server.replies = [Reply(body=_sse(delta, "[DONE]"))]
    assert "".join(backend.stream(QUESTION)) == "The capital is Paris."
    for event, why in [([1], "list, not an object"), ({"choices": [{"delta": "x"}]}, "delta")]:
        scripted_server.replies = [Reply(body=_sse(event, "[DONE]"))]
        with pytest.raises(Unavailable, match=why):
            list(backend.stream(QUESTION))


def test_a_malformed_answer_falls_back_to_extractive(
    scripted_server: ScriptedServer, articles: list[dict[str, Any]]
) -> None:
    from feedcraft.embeddings import HashingEncoder
    from feedcraft.llm import Generator, SummaryRequest

    article = articles[0]
    scripted_server.replies = [Reply(body=_chat([{"type": "image_url", "image_url": {}}]))]
    backend = OpenAICompatibleBackend(scripted_server.url, model="m", max_retries=0)
    result = Generator(backend, HashingEncoder(256)).summary(
        SummaryRequest(article["title"], article["body"])
    )
    assert result.fallback and result.outputs and "content part 0" in result.failures[0]


def test_the_http_client_is_built_once_across_threads(scripted_server: ScriptedServer) -> None:
    backend = OpenAICompatibleBackend(scripted_server.url)
    barrier = threading.Barrier(8)

    def client() -> object:
        barrier.wait()
        return backend._http()

    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda _: client(), range(8)))
    assert all(c is clients[0] for c in clients)
    backend.close()


def test_a_stream_cut_before_its_end_is_unavailable(scripted_server: ScriptedServer) -> None:
    """A stream that stops with neither [DONE] nor a finish reason lost its tail: the pieces
    come, then Unavailable, never a silent half answer. A finish reason alone ends it."""
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=0)
    piece = {"choices": [{"index": 0, "delta": {"content": "The capital "}}]}
    scripted_server.replies = [Reply(body=_sse(piece))]
    pieces: list[str] = []
    with pytest.raises(Unavailable, match="ended before \\[DONE\\]"):
        pieces.extend(backend.stream(QUESTION))
    assert pieces == ["The capital "]
    last = {"choices": [{"index": 0, "delta": {"content": "is Paris."}, "finish_reason": "stop"}]}
    scripted_server.replies = [Reply(body=_sse(piece, last))]
    assert "".join(backend.stream(QUESTION)) == "The capital is Paris."
    usage = {"choices": [], "usage": {"completion_tokens": 3}}  # stream_options' last chunk
    scripted_server.replies = [Reply(body=_sse(piece, last, usage, "[DONE]"))]
    assert "".join(backend.stream(QUESTION)) == "The capital is Paris."


def _delta(text: str, finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


def test_line_separators_inside_a_streamed_event_stay_text(
    scripted_server: ScriptedServer,
) -> None:
    """llama.cpp writes U+2028 unescaped in its JSON; only \\n, \\r\\n and \\r end an SSE line."""
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=0)
    text = "Paris\u2028London\u2029Rome\x85Berlin."
    raw = _sse(_delta("x")).replace(b'"x"', json.dumps(text, ensure_ascii=False).encode())
    scripted_server.replies = [Reply(body=raw + _sse("[DONE]"))]
    assert "".join(backend.stream(QUESTION)) == text
    crlf = (_sse(_delta("Par")) + _sse(_delta("is.", "stop"))).replace(b"\n", b"\r\n")
    scripted_server.replies = [Reply(body=crlf, trickle=0.001)]  # 4-byte chunks split \r\n
    assert "".join(backend.stream(QUESTION)) == "Paris."


def test_events_spread_over_lines_and_llama_cpp_errors_are_read(
    scripted_server: ScriptedServer,
) -> None:
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=0)
    spread = b'data: {"choices": [{"index": 0,\ndata: "delta": {"content": "Paris."}}]}\n\n'
    scripted_server.replies = [Reply(body=spread + _sse("[DONE]"))]
    assert "".join(backend.stream(QUESTION)) == "Paris."
    packed = f"data: {json.dumps(_delta('Par'))}\ndata: {json.dumps(_delta('is.'))}\n"
    scripted_server.replies = [Reply(body=(packed + "data: [DONE]\n\n").encode())]
    assert "".join(backend.stream(QUESTION)) == "Paris."  # no blank lines between events
    failed = _sse(_delta("Par")) + b'error: {"message": "context overflow"}\n\n'
    scripted_server.replies = [Reply(body=failed)]
    with pytest.raises(Unavailable, match=r"failed mid-stream.*context overflow") as caught:
        list(backend.stream(QUESTION))
    assert scripted_server.url.split("//")[1] in str(caught.value)  # names the server


def test_a_stream_answered_whole_or_with_a_web_page(scripted_server: ScriptedServer) -> None:
    """A gateway that ignores `stream` answers one JSON completion: that is the text. A web
    page (a captive portal, a proxy's error page) is named as such, with its first bytes."""
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=0)
    scripted_server.replies = [Reply(body=_chat("Paris."), content_type="application/json")]
    assert list(backend.stream(QUESTION)) == ["Paris."]
    page = b"<html><body>Sign in to the hotel wifi</body></html>"
    scripted_server.replies = [Reply(body=page, content_type="text/html")]
    with pytest.raises(Unavailable, match=r"web page, no event stream: HTTP 200, text/html.*Sign"):
        list(backend.stream(QUESTION))
    scripted_server.replies = [Reply(body=page, content_type="text/html")]
    with pytest.raises(Unavailable, match=r"invalid JSON: HTTP 200, text/html.*Sign in"):
        backend.chat(QUESTION)


def test_a_redirect_is_an_error_naming_its_target(scripted_server: ScriptedServer) -> None:
    target = "https://llm.example/v1/chat/completions"
    scripted_server.replies = [Reply(status=307, headers={"Location": target}), Reply("never")]
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=2, backoff=0)
    with pytest.raises(InvalidInput, match=f"HTTP 307.*{target}"):
        backend.chat(QUESTION)
    assert len(scripted_server.requests) == 1  # not retried, not followed


def test_a_broken_compressed_answer_is_unavailable_not_a_crash(
    scripted_server: ScriptedServer,
) -> None:
    bad = Reply(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    scripted_server.replies = [bad, bad]
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=1, backoff=0)
    with pytest.raises(Unavailable, match="failed after 2 tries: DecodingError"):
        backend.chat(QUESTION)


def test_retry_after_is_honoured_or_ends_the_retries(scripted_server: ScriptedServer) -> None:
    limited = Reply(status=429, headers={"Retry-After": "1"})
    scripted_server.replies = [limited, Reply("Paris")]
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=2, backoff=0)
    start = time.perf_counter()
    assert backend.chat(QUESTION).text == "Paris"
    assert time.perf_counter() - start >= 1.0  # backoff alone would not have waited
    scripted_server.replies = [Reply(status=503, headers={"Retry-After": "120"}), Reply("x")]
    short = OpenAICompatibleBackend(scripted_server.url, timeout=5, max_retries=3, backoff=0)
    start = time.perf_counter()
    with pytest.raises(Unavailable, match=r"failed after 1 tries.*asks to wait 120 s"):
        short.chat(QUESTION)
    assert time.perf_counter() - start < 1.0


def test_an_answer_over_the_size_limit_is_refused(scripted_server: ScriptedServer) -> None:
    backend = OpenAICompatibleBackend(scripted_server.url, max_retries=0, max_answer_bytes=1000)
    scripted_server.replies = [Reply(body=_chat("word " * 500))]
    with pytest.raises(Unavailable, match="over 1,000 bytes"):
        backend.chat(QUESTION)
    scripted_server.replies = [Reply(body=_sse(*[_delta("word ")] * 100, "[DONE]"))]
    with pytest.raises(Unavailable, match="over 1,000 bytes"):
        list(backend.stream(QUESTION))
    scripted_server.replies = [Reply(body=_chat("Paris."))]
    assert backend.chat(QUESTION).text == "Paris."


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), -1.0])
def test_timeouts_must_be_finite_and_positive(timeout: float) -> None:
    with pytest.raises(InvalidInput, match="timeout"):
        OpenAICompatibleBackend("http://h:1", timeout=timeout)


def test_display_url_hides_credentials_and_keys() -> None:
    from feedcraft.llm.http import display_url

    shown = display_url("https://alice:hunter2pw@gw.example/v1?api_key=sk-SECRET123#x")
    assert shown == "https://gw.example/v1"
    assert display_url("ftp://u:pw@h/x?k=1") == "ftp://h/x"
    assert display_url("gemma3") == "gemma3"
