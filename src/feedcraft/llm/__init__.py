"""L2 generation: language-model backends, tasks, guardrails and the extractive fallback.

Pure algorithms on text: no storage. A `Backend` turns chat messages into text (the embedded
llama.cpp default, or any OpenAI-compatible server); tasks turn requests into prompts and
parse answers; guardrails decide what a reader may see; the extractive summariser answers
when no model is available or the model's text fails the checks.
"""

from feedcraft.llm.base import Backend, Completion, Message, SamplingParams
from feedcraft.llm.embedded import LlamaCppBackend, resolve_gguf
from feedcraft.llm.extractive import ExtractiveSummarizer
from feedcraft.llm.factory import backend_from_settings, generator_from_settings, make_backend
from feedcraft.llm.generator import GENERATION_REVISION, GenerationResult, Generator
from feedcraft.llm.guardrails import CheckResult, Guardrails, SimilarityRule
from feedcraft.llm.http import OpenAICompatibleBackend
from feedcraft.llm.safety import find_injections, neutralise, sanitize_source, wrap_source
from feedcraft.llm.sentences import count_units, split_sentences
from feedcraft.llm.tasks import (
    AdCopyRequest,
    HeadlineRequest,
    ProductDescriptionRequest,
    SummaryRequest,
)

__all__ = [
    "GENERATION_REVISION",
    "AdCopyRequest",
    "Backend",
    "CheckResult",
    "Completion",
    "ExtractiveSummarizer",
    "GenerationResult",
    "Generator",
    "Guardrails",
    "HeadlineRequest",
    "LlamaCppBackend",
    "Message",
    "OpenAICompatibleBackend",
    "ProductDescriptionRequest",
    "SamplingParams",
    "SimilarityRule",
    "SummaryRequest",
    "backend_from_settings",
    "count_units",
    "find_injections",
    "generator_from_settings",
    "make_backend",
    "neutralise",
    "resolve_gguf",
    "sanitize_source",
    "split_sentences",
    "wrap_source",
]
