"""Build a backend from a short spec string, as settings and the command line give it."""

from __future__ import annotations

from typing import Any

from feedcraft.config import LLMSettings
from feedcraft.embeddings.base import Encoder
from feedcraft.embeddings.factory import make_encoder
from feedcraft.errors import InvalidInput
from feedcraft.llm.admission import Admission
from feedcraft.llm.base import Backend
from feedcraft.llm.breaker import Breaker
from feedcraft.llm.embedded import PACKAGED_GGUF, LlamaCppBackend
from feedcraft.llm.generator import Generator
from feedcraft.llm.guardrails import Guardrails, SimilarityRule
from feedcraft.llm.http import OpenAICompatibleBackend, display_url

__all__ = [
    "backend_from_settings",
    "generator_from_settings",
    "guardrails_from_settings",
    "make_backend",
]

_NO_MODEL = frozenset({"extractive", "none", "off"})


def make_backend(spec: str, **options: Any) -> Backend | None:
    """Backend for `spec`: "gemma3" (the embedded default), "smollm2" or a .gguf path, an
    OpenAI-compatible server URL ("http://127.0.0.1:8080"), or "extractive" for no model
    (None: the generator then answers with the extractive fallback only).

    `options` go to the backend's constructor (n_threads, timeout, model, max_retries, ...).
    """
    spec = (spec or "").strip()
    if not spec:
        raise InvalidInput("empty backend spec", field="backend")
    if spec.lower() in _NO_MODEL:
        return None
    if spec.lower().startswith(("http://", "https://")):
        return OpenAICompatibleBackend(spec, **options)
    if spec in PACKAGED_GGUF or spec.lower().endswith(".gguf"):
        return LlamaCppBackend(spec, **options)
    raise InvalidInput(
        f"unknown backend {display_url(spec)!r}: use smollm2, gemma3, a .gguf path, an "
        "http(s):// URL or extractive",
        field="backend",
    )


def backend_from_settings(settings: LLMSettings) -> Backend | None:
    """The backend `[llm]` names, with the options that apply to its kind."""
    spec = settings.backend.strip()
    style = None if settings.prompt_style == "auto" else settings.prompt_style
    if spec.lower().startswith(("http://", "https://")):
        return make_backend(
            spec,
            model=settings.model,
            api_key=settings.api_key,
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
            total_timeout=settings.total_timeout_s,
            prompt_style=style or "chat",
        )
    if spec.lower() in _NO_MODEL:
        return None
    return make_backend(
        spec,
        n_threads=settings.threads,
        n_ctx=settings.context,
        prompt_style=style,
        swa_full=settings.swa_full,
    )


def guardrails_from_settings(settings: LLMSettings, encoder: Encoder) -> Guardrails:
    """The guardrails `[llm]` configures; `encoder` judges similarity of English text (and of
    all text when no multilingual encoder is set)."""
    multilingual = None
    if settings.multilingual_encoder:
        multilingual = SimilarityRule(
            make_encoder(settings.multilingual_encoder), settings.multilingual_min_similarity
        )
    return Guardrails(
        encoder,
        min_similarity=settings.min_similarity,
        min_overlap=settings.min_overlap,
        banned_terms=settings.banned_terms,
        multilingual=multilingual,
    )


def generator_from_settings(settings: LLMSettings, encoder: Encoder, *, seed: int = 0) -> Generator:
    """Backend, guardrails and retry policy as configured; `encoder` scores similarity (see
    `guardrails_from_settings`) and ranks sentences for the extractive fallback."""
    rails = guardrails_from_settings(settings, encoder)
    return Generator(
        backend_from_settings(settings),
        encoder,
        guardrails=rails,
        max_attempts=settings.max_attempts,
        admission=Admission(settings.max_pending),
        breaker=Breaker(settings.down_retry_s),
        seed=seed,
    )
