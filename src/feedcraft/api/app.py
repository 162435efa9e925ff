"""The FastAPI app factory. Errors map from feedcraft.errors to status codes here, once.

Serving runs BLAS and OpenMP on one thread per request: a request's algebra is a few
matrix-vector products, which threads barely speed up, while on a busy machine (concurrent
requests, other jobs) their spinning workers made a 1 ms product take 30 ms at times.
Feeds and similar items are serialised by pydantic in one pass (`model_dump_json`) rather
than validated again and encoded by FastAPI's generic path; their schema is unchanged.

Generation requests (summary, headlines, ad copy, description) run in threads of their own,
at most `[serve] generation_threads` at once, the rest waiting in the event loop without a
thread. Every other route runs in the pool of 40 that Starlette gives plain functions: a job
asking for many summaries at once held all 40 while they queued for the model or the
fallback's encoding, and the site's feeds waited seconds for a thread
(`benchmarks/rate_limit.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from threadpoolctl import threadpool_limits

from feedcraft import __version__
from feedcraft.api.item_paths import ITEM_BY_ID, EncodedItemIds
from feedcraft.api.keys import KeyCheck, bearer_scheme
from feedcraft.api.limits import RateLimit
from feedcraft.api.schemas import (
    ConsentDecisionOut,
    ConsentHistoryOut,
    ConsentIn,
    ConsentOut,
    ErasureOut,
    EventsIn,
    FeedEntryOut,
    FeedOut,
    GeneratedOut,
    HealthOut,
    ItemOut,
    ItemsIn,
    WriteResult,
)
from feedcraft.config import Settings
from feedcraft.domain import MAX_ID_LENGTH, FeedEntry, Item
from feedcraft.errors import Conflict, FeedcraftError, InvalidInput, NotFound, Unavailable
from feedcraft.services.app import AppServices, open_services
from feedcraft.services.consent import ConsentState
from feedcraft.services.erasure import erase_users
from feedcraft.services.feed_summaries import AttachedSummaries
from feedcraft.services.generation import GeneratedText
from feedcraft.services.generation_limits import MAX_LENGTH
from feedcraft.services.items import delete_items

STATUS = {NotFound: 404, Conflict: 409, InvalidInput: 422, Unavailable: 503}
#: A generated text's length budget: characters for Chinese and Japanese, words otherwise;
#: at most MAX_LENGTH (half the longest source a model reads: see generation_limits).
Length = Annotated[int | None, Query(ge=1, le=MAX_LENGTH, description="characters (CJK) or words")]
#: BLAS / OpenMP threads while serving (see the module docstring).
SERVING_THREADS = 1


def _status(exc: FeedcraftError) -> int:
    for kind, code in STATUS.items():
        if isinstance(exc, kind):
            return code
    return 500


def create_app(settings: Settings, services: AppServices | None = None) -> FastAPI:
    """Build the app; the store opens at start-up and closes at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or open_services(settings)
        app.state.generation_threads = anyio.CapacityLimiter(settings.serve.generation_threads)
        if settings.llm.warm_at_start:
            app.state.services.warm_generation()
        limits = threadpool_limits(limits=SERVING_THREADS)
        try:
            yield
        finally:
            limits.restore_original_limits()
            if owned:
                app.state.services.close()

    keys = settings.serve.api_keys
    docs = settings.serve.docs
    app = FastAPI(
        title="feedcraft",
        version=__version__,
        description="Self-hosted personalization engine for media.",
        lifespan=lifespan,
        dependencies=[Depends(bearer_scheme)] if keys else None,
        # off: no description of the routes (the code's, public anyway, but a server facing
        # the internet need not map itself for a scanner)
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )

    app.add_middleware(EncodedItemIds)
    serve = settings.serve
    if serve.rate_limit is not None or any(k.rate_limit is not None for k in keys):
        # inside KeyCheck: limited as the key it checked
        app.add_middleware(RateLimit, rate=serve.rate_limit, burst=serve.rate_burst, keys=keys)
    if keys:  # added last: runs first, before any path is rewritten or routed
        app.add_middleware(KeyCheck, keys=[k.key for k in keys], docs=docs)

    @app.exception_handler(FeedcraftError)
    async def _feedcraft_error(_: Request, exc: FeedcraftError) -> JSONResponse:
        return JSONResponse(status_code=_status(exc), content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's 422 shape, without the echoed `input`/`ctx`: they may hold values JSON
        cannot carry (a NaN sent as a number), which made the error response itself fail."""
        errors = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": errors})

    def svc(request: Request) -> AppServices:
        services: AppServices = request.app.state.services
        return services

    @app.get("/health", response_model=HealthOut)
    def health(request: Request) -> HealthOut:
        s = svc(request)
        return HealthOut(
            status="ok",
            version=__version__,
            store=s.store.url.split("://")[0],
            items=s.store.catalogue.count(),
            events=s.store.events.count(),
            generation=s.generation_state,
        )

    @app.post("/items", response_model=WriteResult, status_code=201)
    def add_items(body: ItemsIn, request: Request) -> WriteResult:
        """Add or replace items, all or none; of one id sent twice the later wins. Adding a
        deleted item's id again restores it: events about it are accepted again."""
        unique = {i.id: i.to_domain() for i in body.items}
        changed = svc(request).store.catalogue.upsert(unique.values())
        return WriteResult(received=len(body.items), new=changed)

    # Item and user ids may hold "/" (URL-like ids: "news/2024/rain"), sent plain or as %2F:
    # the routes take the rest of the path, and the sub-resources (/summary, /similar, ...)
    # are registered before the item itself so that they are matched first.
    @app.get("/items/{item_id:path}/similar", response_model=list[FeedEntryOut])
    def similar_items(
        item_id: str, request: Request, n: Annotated[int, Query(ge=1, le=500)] = 10
    ) -> Response:
        s = svc(request)
        entries = s.feeds.similar(item_id, n)
        items = s.store.catalogue.get_many([e.item_id for e in entries])
        # vectors written by a `train` that raced a deletion must not bring the item back
        entries = [e for e in entries if e.item_id in items]
        return _json(_SIMILAR.dump_json(_entries(entries, items)))

    @app.post("/events", response_model=WriteResult, status_code=201)
    def add_events(body: EventsIn, request: Request) -> WriteResult:
        """Append events in one transaction; already-stored ids (idempotency keys) are skipped.

        Events naming items the catalogue lacks create stub items, as the importers do; an
        event naming a deleted item fails the batch (422, naming `events[i].item_id`) until the
        item is stored again with POST /items.
        """
        events = [e.to_domain() for e in body.events]
        new = svc(request).ingest_events(events)
        return WriteResult(received=len(events), new=new)

    @app.get("/users/{user_id:path}/feed", response_model=FeedOut)
    def user_feed(
        user_id: Annotated[str, Path(min_length=1)],
        request: Request,
        n: Annotated[int, Query(ge=1, le=1000)] = 20,
        model: str | None = None,
        summaries: Annotated[
            bool,
            Query(
                description="attach a personalised summary to each item; those not written "
                "within the budget ([llm] feed_summary_budget_s) come with a later request "
                "(summary_pending); when generation cannot run (a misconfigured [llm] "
                "backend) the feed comes without them, the reason in summaries_unavailable"
            ),
        ] = False,
    ) -> Response:
        s = svc(request)
        reader = s.readers.reader(user_id)
        feed, items = s.feeds.feed_with_items(reader, n, model)
        attached = None
        if summaries:
            full = [
                e.item_id for e in feed.entries if e.item_id in items and not items[e.item_id].stub
            ]
            attached = s.attach_summaries(full, reader)
        entries = _entries(feed.entries, items, attached)
        out = FeedOut(
            user_id=user_id,  # as the caller knows them, not a pseudonym
            model=feed.model,
            items=entries,
            personalised=feed.personalised,
            summaries_unavailable=attached.unavailable if attached else None,
        )
        return _json(out.model_dump_json().encode())

    @app.get("/users/{user_id:path}/consent", response_model=ConsentOut)
    def get_consent(user_id: Annotated[str, Path(min_length=1)], request: Request) -> ConsentOut:
        """What the reader agreed to, and what applies to them (the default where they made
        no choice)."""
        s = svc(request)
        return _consent(user_id, s.feeds.consent.state(s.readers.reader(user_id)))

    @app.get("/users/{user_id:path}/consent/history", response_model=ConsentHistoryOut)
    def get_consent_history(
        user_id: Annotated[str, Path(min_length=1)], request: Request
    ) -> ConsentHistoryOut:
        """Every decision the reader made, oldest first, with its time: when they agreed to
        what (kept until the reader is erased)."""
        s = svc(request)
        decisions = [
            ConsentDecisionOut(
                choices={p.value: v for p, v in c.choices.items()},
                updated_at=c.updated_at,
            )
            for c in s.feeds.consent.history(s.readers.reader(user_id))
        ]
        return ConsentHistoryOut(user_id=user_id, decisions=decisions)

    @app.put("/users/{user_id:path}/consent", response_model=ConsentOut)
    def put_consent(
        user_id: Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH)],
        body: ConsentIn,
        request: Request,
    ) -> ConsentOut:
        """Record the reader's decisions (from the site's consent banner or settings page),
        replacing earlier ones whole. Their next feed and summaries obey them: without
        personalisation, the feed of a reader never seen and summaries for anyone; without
        ads, ad copy for a general audience. Their events are still recorded."""
        s = svc(request)
        return _consent(user_id, s.feeds.consent.record(s.readers.reader(user_id), body.choices()))

    @app.delete("/users/{user_id:path}", response_model=ErasureOut)
    def erase_user(user_id: Annotated[str, Path(min_length=1)], request: Request) -> ErasureOut:
        """Erase a reader: every event of theirs, and their id and history in every stored
        model version (each rewritten without them), nothing of either left readable in the
        store's files. Answers 200 with what was removed, also when nothing was: erasing
        twice succeeds. Models this process holds are dropped; other processes load the
        rewritten ones at their next request. Write the request's user id nowhere else."""
        s = svc(request)
        report = erase_users(s.store, [s.readers.reader(user_id)])
        s.feeds.drop_models()
        return ErasureOut(
            user_id=user_id,
            events=report.events,
            consents=report.consents,
            models=report.models,
            unreadable=list(report.unreadable),
            dropped=list(report.dropped),
        )

    async def _generation(request: Request, run: Callable[[], GeneratedText]) -> GeneratedOut:
        """Run a generation request in the generation threads (see the module docstring)."""
        limiter: anyio.CapacityLimiter = request.app.state.generation_threads
        return _generated(await anyio.to_thread.run_sync(run, limiter=limiter))

    @app.get("/items/{item_id:path}/summary", response_model=GeneratedOut)
    async def item_summary(
        item_id: str, request: Request, user_id: str | None = None, max_length: Length = None
    ) -> GeneratedOut:
        """A summary of the item, personalised to the user's interests when `user_id` is set."""
        s = svc(request)
        reader = None if user_id is None else s.readers.reader(user_id)
        return await _generation(
            request, lambda: s.generation.summary(item_id, reader, max_length=max_length)
        )

    @app.get("/items/{item_id:path}/headlines", response_model=GeneratedOut)
    async def item_headlines(
        item_id: str,
        request: Request,
        n: Annotated[int, Query(ge=1, le=10)] = 3,
        max_length: Length = None,
    ) -> GeneratedOut:
        """`n` headline variants for the item, best first by p_click when a headline click
        model has been trained (`feedcraft train-headlines`)."""
        gen = svc(request).generation
        return await _generation(request, lambda: gen.headlines(item_id, n, max_length=max_length))

    @app.get("/items/{item_id:path}/ad-copy", response_model=GeneratedOut)
    async def item_ad_copy(
        item_id: str,
        request: Request,
        audience: str | None = None,
        user_id: str | None = None,
        campaign: str = "",
        max_length: Length = None,
    ) -> GeneratedOut:
        """Ad copy for the item for an audience (or for the user's interests)."""
        s = svc(request)
        reader = None if user_id is None else s.readers.reader(user_id)
        return await _generation(
            request,
            lambda: s.generation.ad_copy(
                item_id,
                audience=audience,
                user_id=reader,
                campaign=campaign,
                max_length=max_length,
            ),
        )

    @app.get("/items/{item_id:path}/description", response_model=GeneratedOut)
    async def item_description(
        item_id: str, request: Request, max_length: Length = None
    ) -> GeneratedOut:
        """A product description written from the item's attributes."""
        gen = svc(request).generation
        return await _generation(
            request, lambda: gen.product_description(item_id, max_length=max_length)
        )

    @app.get("/items/{item_id:path}", response_model=ItemOut)
    @app.get(ITEM_BY_ID + "{item_id:path}", response_model=ItemOut, include_in_schema=False)
    def get_item(item_id: Annotated[str, Path(min_length=1)], request: Request) -> ItemOut:
        return ItemOut.from_domain(svc(request).store.catalogue.get(item_id))

    @app.delete(
        "/items/{item_id:path}",
        status_code=204,
        response_class=Response,
        responses={404: {"description": "No item with this id in the catalogue"}},
    )
    def delete_item(item_id: Annotated[str, Path(min_length=1)], request: Request) -> Response:
        """Take an item down: from the catalogue, its vectors and its cached generated texts,
        so no feed or similar-items list shows it from now on. Events naming it are kept; new
        ones are refused (POST /events answers 422) until the item is stored again."""
        report = delete_items(svc(request).store, [item_id])
        if report.not_found:
            raise NotFound(f"no item with id {item_id!r} in the catalogue")
        return Response(status_code=204)

    return app


_SIMILAR = TypeAdapter(list[FeedEntryOut])


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


def _consent(user_id: str, state: ConsentState) -> ConsentOut:
    """`user_id` as the caller sent it (the state's may be its pseudonym)."""
    return ConsentOut(
        user_id=user_id,
        choices={p.value: v for p, v in state.consent.choices.items()},
        effective={p.value: v for p, v in state.effective.items()},
        default=state.default,
        updated_at=state.consent.updated_at,
    )


def _generated(g: GeneratedText) -> GeneratedOut:
    fields = g.as_dict()
    fields.pop("cache_key", None)  # internal: names the model and settings hash
    return GeneratedOut(**fields)


def _entries(
    entries: Sequence[FeedEntry],
    items: Mapping[str, Item],
    summaries: AttachedSummaries | None = None,
) -> list[FeedEntryOut]:
    out = []
    for e in entries:
        item = items.get(e.item_id)
        out.append(
            FeedEntryOut(
                item_id=e.item_id,
                score=e.score,
                reason=e.reason,
                source=e.source,
                title=item.title if item else None,
                category=item.category if item and item.category else None,
                summary=summaries.texts.get(e.item_id) if summaries else None,
                summary_pending=summaries is not None and e.item_id in summaries.pending,
                summary_for_anyone=summaries is not None and e.item_id in summaries.for_anyone,
            )
        )
    return out
