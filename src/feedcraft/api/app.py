"""The FastAPI app factory. Errors map from feedcraft.errors to status codes here, once.

Serving runs BLAS and OpenMP on one thread per request: a request's algebra is a few
matrix-vector products, which threads barely speed up, while on a busy machine (concurrent
requests, other jobs) their spinning workers made a 1 ms product take 30 ms at times.
Feeds and similar items are serialised by pydantic in one pass (`model_dump_json`) rather
than validated again and encoded by FastAPI's generic path; their schema is unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from threadpoolctl import threadpool_limits

from feedcraft import __version__
from feedcraft.api.schemas import (
    EventsIn,
    FeedEntryOut,
    FeedOut,
    HealthOut,
    ItemOut,
    ItemsIn,
    WriteResult,
)
from feedcraft.config import Settings
from feedcraft.domain import FeedEntry, Item
from feedcraft.errors import Conflict, FeedcraftError, InvalidInput, NotFound, Unavailable
from feedcraft.services.app import AppServices, open_services

STATUS = {NotFound: 404, Conflict: 409, InvalidInput: 422, Unavailable: 503}
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
        limits = threadpool_limits(limits=SERVING_THREADS)
        try:
            yield
        finally:
            limits.restore_original_limits()
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="feedcraft",
        version=__version__,
        description="Self-hosted personalization engine for media.",
        lifespan=lifespan,
    )

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
        )

    @app.post("/items", response_model=WriteResult, status_code=201)
    def add_items(body: ItemsIn, request: Request) -> WriteResult:
        """Add or replace items, all or none; of one id sent twice the later wins."""
        unique = {i.id: i.to_domain() for i in body.items}
        changed = svc(request).store.catalogue.upsert(unique.values())
        return WriteResult(received=len(body.items), new=changed)

    @app.get("/items/{item_id}", response_model=ItemOut)
    def get_item(item_id: Annotated[str, Path(min_length=1)], request: Request) -> ItemOut:
        return ItemOut.from_domain(svc(request).store.catalogue.get(item_id))

    @app.get("/items/{item_id}/similar", response_model=list[FeedEntryOut])
    def similar_items(
        item_id: str, request: Request, n: Annotated[int, Query(ge=1, le=500)] = 10
    ) -> Response:
        s = svc(request)
        entries = s.feeds.similar(item_id, n)
        items = s.store.catalogue.get_many([e.item_id for e in entries])
        return _json(_SIMILAR.dump_json(_entries(entries, items)))

    @app.post("/events", response_model=WriteResult, status_code=201)
    def add_events(body: EventsIn, request: Request) -> WriteResult:
        """Append events in one transaction; already-stored ids (idempotency keys) are skipped.

        Events naming items the catalogue lacks create stub items, as the importers do.
        """
        events = [e.to_domain() for e in body.events]
        new = svc(request).ingest_events(events)
        return WriteResult(received=len(events), new=new)

    @app.get("/users/{user_id}/feed", response_model=FeedOut)
    def user_feed(
        user_id: Annotated[str, Path(min_length=1)],
        request: Request,
        n: Annotated[int, Query(ge=1, le=1000)] = 20,
        model: str | None = None,
    ) -> Response:
        feed, items = svc(request).feeds.feed_with_items(user_id, n, model)
        out = FeedOut(user_id=feed.user_id, model=feed.model, items=_entries(feed.entries, items))
        return _json(out.model_dump_json().encode())

    return app


_SIMILAR = TypeAdapter(list[FeedEntryOut])


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


def _entries(entries: Sequence[FeedEntry], items: Mapping[str, Item]) -> list[FeedEntryOut]:
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
            )
        )
    return out
