"""The `feedcraft` command: import, train, evaluate, serve, and `run` (the main job)."""

from __future__ import annotations

import ipaddress
import json
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from feedcraft.cli.common import (
    ConfigOpt,
    StoreOpt,
    app,
    clean_errors,
    console,
    import_app,
    opened,
    readers_of,
    settings_for,
)
from feedcraft.config import Settings
from feedcraft.errors import FeedcraftError
from feedcraft.services.generation_batch import STOP_AFTER_BACKEND_FAILURES
from feedcraft.services.generation_limits import MAX_LENGTH
from feedcraft.services.training import MODEL_NAMES

if TYPE_CHECKING:
    from feedcraft.services.generation import GeneratedText, GenerationService

# What to do instead when a command that reads a store finds none at the path (it is not
# created: a mistyped --store would otherwise leave an empty database behind).
NO_DATA = "check --store, or import events first: feedcraft import"
NO_ITEMS = "check --store, or import items first: feedcraft import"


def sample_dir(name: str) -> Path:
    """A bundled real-data sample (MovieLens latest-small, Wikinews)."""
    return Path(str(resources.files("feedcraft") / "sample" / name))


@import_app.command("mind")
def import_mind_cmd(
    path: Annotated[Path, typer.Argument(help="Folder with news.tsv[.gz] and behaviors.tsv[.gz]")],
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Import MIND-format news and impressions (MIND, NeMig)."""
    _run_import("mind", path, config, store)


@import_app.command("movielens")
def import_movielens_cmd(
    path: Annotated[Path, typer.Argument(help="Folder with ratings.csv[.gz], movies.csv[.gz]")],
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Import MovieLens ratings, movies and tags."""
    _run_import("movielens", path, config, store)


@import_app.command("jsonl")
def import_jsonl_cmd(
    path: Annotated[Path, typer.Argument(help="Folder with items.jsonl and/or events.jsonl")],
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Import the generic JSON Lines format (docs/formats/jsonl.md)."""
    _run_import("jsonl", path, config, store)


def _run_import(kind: str, path: Path, config: Path | None, store: str | None) -> None:
    from feedcraft.services import ingestion

    fn = {
        "mind": ingestion.import_mind,
        "movielens": ingestion.import_movielens,
        "jsonl": ingestion.import_jsonl,
    }[kind]
    with opened(config, store) as (settings, st):
        report = fn(st, path, progress=settings.progress, readers=readers_of(settings))
        console.print(f"imported {escape(report.summary())}")


@app.command()
def train(
    models: Annotated[str, typer.Option(help="Comma-separated models to train.")] = ",".join(
        MODEL_NAMES
    ),
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Embed the catalogue (cached), fit the models, save them as new artifact versions."""
    from feedcraft.services.training import train as train_job

    with opened(config, store, missing=NO_DATA) as (settings, st):
        reports = train_job(st, settings, models=_names(models), progress=settings.progress)
    for r in reports:
        console.print(
            f"trained {r.model} v{r.version} in {r.seconds:.2f}s "
            f"({r.users} users, {r.items} items, {r.interactions} interactions)"
        )


@app.command("rollback")
def rollback_cmd(
    model: Annotated[str, typer.Argument(help="The model whose newest version to drop.")],
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Serve the previous version of a model: its newest version is deleted."""
    from feedcraft.services.models import rollback

    with opened(config, store, missing="check --store, or train first: feedcraft train") as (
        _,
        st,
    ):
        info = rollback(st, model)
    console.print(f"{model} now serves v{info.version} (trained {info.created_at:%Y-%m-%d %H:%M})")


@app.command()
def evaluate(
    dataset: Annotated[
        str | None,
        typer.Option(help="'mind': impression ranking on MIND-layout data in the store."),
    ] = None,
    protocol: Annotated[
        str, typer.Option(help="user-temporal (top-N) when --dataset is not mind.")
    ] = "user-temporal",
    predictions: Annotated[
        Path | None, typer.Option(help="Write a MIND-format prediction file (mind only).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write metrics as JSON.")] = None,
    k: Annotated[int, typer.Option(min=1)] = 10,
    test_fraction: Annotated[float, typer.Option(min=0.01, max=0.99)] = 0.2,
    models: Annotated[str, typer.Option(help="Comma-separated models to compare.")] = ",".join(
        MODEL_NAMES
    ),
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Evaluate every model on a held-out split and print a table."""
    from feedcraft.evaluation.report import format_table
    from feedcraft.services import evaluation as ev

    with opened(config, store, missing=NO_DATA) as (settings, st):
        if dataset == "mind":
            result = ev.evaluate_impressions(
                st,
                settings,
                models=_names(models),
                test_fraction=test_fraction,
                predictions=predictions,
                progress=settings.progress,
            )
        elif dataset is None and protocol == "user-temporal":
            if predictions is not None:
                raise FeedcraftError("--predictions is only for --dataset mind")
            result = ev.evaluate_user_temporal(
                st,
                settings,
                models=_names(models),
                test_fraction=test_fraction,
                k=k,
                progress=settings.progress,
            )
        else:
            raise FeedcraftError(
                f"unknown dataset/protocol {dataset or protocol!r}: "
                "use --dataset mind or --protocol user-temporal"
            )
    print(result.title)
    print(format_table(result.per_model))
    print(f"default model: {result.default_model}")
    if predictions is not None:
        print(f"predictions written to {predictions}")
    if json_out is not None:
        json_out.write_text(json.dumps(result.to_json(), indent=2) + "\n")
        print(f"metrics written to {json_out}")


WarmOpt = Annotated[
    bool | None,
    typer.Option(
        "--warm-generation/--lazy-generation",
        help="Load the language model in the background at start-up, so the first feed with "
        "summaries does not wait for it; else [llm] warm_at_start (default: lazy).",
    ),
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    warm: WarmOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Ctrl-C stops it."""
    with clean_errors():
        settings = settings_for(config, store)
    _serve(settings, host, port, warm)


def exposure_warning(host: str, keyed: bool) -> str | None:
    """What to tell someone serving on an address others can reach without API keys: feeds,
    summaries and events answer anyone who knows a user id."""
    if keyed or host == "localhost":
        return None
    with suppress(ValueError):
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return None
    return (
        f"serving on {host} with no [serve] api_keys: anyone who reaches it can read feeds "
        "and readers' interests, and write events (set FEEDCRAFT_SERVE__API_KEYS)"
    )


def _serve(settings: Settings, host: str | None, port: int | None, warm: bool | None) -> None:
    import uvicorn

    from feedcraft.api.app import create_app
    from feedcraft.llm.http import display_url
    from feedcraft.services.app import open_services

    host = host or settings.serve.host
    port = port or settings.serve.port
    if warm is not None:
        llm = settings.llm.model_copy(update={"warm_at_start": warm})
        settings = settings.model_copy(update={"llm": llm})
    with clean_errors():  # open the store here: a bad one is a clean error, not a traceback
        services = open_services(settings)
    if settings.llm.warm_at_start:
        shown = display_url(settings.llm.backend)  # the URL may hold a key
        console.print(f"loading the generation models ({shown}) in the background")
    if warning := exposure_warning(host, bool(settings.serve.api_keys)):
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    console.print(f"serving on http://{host}:{port} (docs at /docs); Ctrl-C stops")
    try:
        # warnings only: no access log, whose lines would name readers (/users/{id}/feed)
        uvicorn.run(create_app(settings, services), host=host, port=port, log_level="warning")
    finally:
        services.close()


@app.command()
def run(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API after evaluating.")
    ] = True,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    warm: WarmOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """The main job: load the bundled sample, embed, train, evaluate, then serve."""
    from feedcraft.evaluation.report import format_table
    from feedcraft.services import evaluation as ev
    from feedcraft.services import ingestion
    from feedcraft.services.training import train as train_job
    from feedcraft.storage import open_store

    with clean_errors():
        settings = settings_for(config, store)
        console.print(f"store: {settings.store}")
        readers = readers_of(settings)
        with closing(open_store(settings.store)) as st:
            readers.check_store(st)
            for name, fn in (
                ("movielens-latest-small", ingestion.import_movielens),
                ("wikinews", ingestion.import_jsonl),
            ):
                report = fn(st, sample_dir(name), progress=settings.progress, readers=readers)
                console.print(f"imported bundled {name}: {report.summary()}")
            result = ev.evaluate_user_temporal(
                st, settings, test_fraction=0.2, k=10, progress=settings.progress
            )
            print(result.title)
            print(format_table(result.per_model))
            for r in train_job(st, settings, progress=settings.progress):
                console.print(f"trained {r.model} v{r.version} in {r.seconds:.2f}s")
            # the sample's first reader, by the id a site would send (the store may hold a
            # pseudonym)
            user = "1" if readers.active else st.events.user_ids()[0]
        console.print(
            f"try: curl 'http://127.0.0.1:{port or settings.serve.port}/users/{user}/feed?n=5'"
        )
    if serve_after:
        _serve(settings, host, port, warm)


# Registered here, after the commands above, so `feedcraft --help` lists those first.
from feedcraft.cli import headlines as _headlines  # noqa: E402, F401
from feedcraft.cli import readers as _readers  # noqa: E402, F401

generate_app = typer.Typer(help="Generate text for stored items (cached in the store).")
app.add_typer(generate_app, name="generate")
ItemArg = Annotated[str, typer.Argument(help="A stored item id.")]
MaxLengthOpt = Annotated[
    int | None,
    typer.Option(
        "--max-length",
        min=1,
        max=MAX_LENGTH,
        help="Length budget: words, or characters for CJK.",
    ),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="gemma3 or smollm2 (packaged), a .gguf path, an http(s):// server URL, or "
        "extractive (no model); "
        "else FEEDCRAFT_LLM__BACKEND.",
    ),
]


@contextmanager
def _generation(
    config: Path | None, store: str | None, backend: str | None
) -> Iterator[GenerationService]:
    """The generation service over the open store, its backend overridden by --backend."""
    from feedcraft.embeddings import encoder_from_settings
    from feedcraft.services.generation import GenerationService

    with opened(config, store, missing=NO_ITEMS) as (settings, st):
        if backend:
            llm = settings.llm.model_copy(update={"backend": backend})
            settings = settings.model_copy(update={"llm": llm})
        yield GenerationService(st, settings, encoder_from_settings(settings.embedding))


def _print_json(value: object) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _print_generated(out: GeneratedText, *, user: str | None = None, note: str = "") -> None:
    """The text as JSON on stdout; on stderr `note` when `user` was given but no interests of
    theirs are known (a mistyped id reads like success otherwise), and a warning for what the
    text lacks: outputs that could not be written (`unfilled`), or a backend that failed (the
    fallback's text is served, not cached). Exits 2 when nothing could be served, so that a
    script does not take an empty list for a text."""
    _print_json(out.as_dict())
    if user is not None and not out.interests and note:
        console.print(
            f"note: no interests known for user {escape(user)!r} (no events on items with "
            f"categories or keywords): {note}"
        )
    if out.backend_error is not None:
        served = "served the fallback's text" if out.outputs else "no text could be served"
        console.print(
            f"[yellow]warning:[/yellow] the backend failed ({served}, not cached: ask again "
            f"when it is back): {escape(out.backend_error)}"
        )
    if out.unfilled:
        asked = len(out.outputs) + out.unfilled
        failed = f" (failed: {', '.join(out.failed_checks)})" if out.failed_checks else ""
        console.print(
            f"[yellow]warning:[/yellow] {out.unfilled} of {asked} outputs could not be written: "
            f"neither the model nor the fallback gave one that passes the checks{failed}"
        )
    if not out.outputs:
        raise typer.Exit(2)


@generate_app.command("summary")
def generate_summary_cmd(
    item_id: ItemArg,
    user: Annotated[
        str | None, typer.Option("--user", help="Personalise for this user's interests.")
    ] = None,
    max_length: MaxLengthOpt = None,
    backend: BackendOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """A summary of an item, for a reader's interests; JSON on stdout."""
    with _generation(config, store, backend) as service:
        reader = None if user is None else readers_of(service.settings).reader(user)
        out = service.summary(item_id, reader, max_length=max_length)
    _print_generated(out, user=user, note="the summary is the one for no profile")


@generate_app.command("headlines")
def generate_headlines_cmd(
    item_id: ItemArg,
    n: Annotated[int, typer.Option("--n", min=1, max=10, help="How many variants.")] = 3,
    max_length: MaxLengthOpt = None,
    backend: BackendOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Headline variants for an item, best first by p_click when a headline click model is
    trained; JSON on stdout."""
    with _generation(config, store, backend) as service:
        out = service.headlines(item_id, n, max_length=max_length)
    _print_generated(out)


@generate_app.command("ad-copy")
def generate_ad_copy_cmd(
    item_id: ItemArg,
    audience: Annotated[
        str | None,
        typer.Option("--audience", help="Who the ad is for, in words; else --user's interests."),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Aim at this user's interests (when no --audience)."),
    ] = None,
    campaign: Annotated[
        str, typer.Option("--campaign", help="The campaign's name or angle, if any.")
    ] = "",
    max_length: MaxLengthOpt = None,
    backend: BackendOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Ad copy for an item, for an audience; JSON on stdout."""
    with _generation(config, store, backend) as service:
        reader = None if user is None else readers_of(service.settings).reader(user)
        out = service.ad_copy(
            item_id, audience=audience, user_id=reader, campaign=campaign, max_length=max_length
        )
    note = "the ad copy is aimed at general readers" if audience is None else ""
    _print_generated(out, user=user, note=note)


@generate_app.command("description")
def generate_description_cmd(
    item_id: ItemArg,
    max_length: MaxLengthOpt = None,
    backend: BackendOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """A product description written from an item's attributes; JSON on stdout."""
    with _generation(config, store, backend) as service:
        out = service.product_description(item_id, max_length=max_length)
    _print_generated(out)


@generate_app.command("batch")
def generate_batch_cmd(
    task: Annotated[
        str,
        typer.Option(
            "--task",
            help="summary, headlines, ad_copy (ad-copy) or product_description (description).",
        ),
    ] = "summary",
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="First N items.")] = None,
    stop_after: Annotated[
        int,
        typer.Option(
            "--stop-after",
            min=0,
            help="Stop after this many backend failures in a row (a server down); 0: never.",
        ),
    ] = STOP_AFTER_BACKEND_FAILURES,
    backend: BackendOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Generate `task` for every stored item (in id order) into the cache; report as JSON.
    Items the backend failed on are not cached: a warning names the error, the batch stops
    after --stop-after of them in a row, and the command exits 2 when every item asked of
    the model failed (an outage). A rerun resumes: cached items cost a lookup."""
    from dataclasses import asdict

    with _generation(config, store, backend) as service:
        report = service.generate_batch(task, limit=limit, stop_after=stop_after)
    _print_json(asdict(report))
    if report.backend_failed:  # served the fallback, not cached: the cache is not filled
        left = report.not_attempted
        stopped = f", stopped with {left} items left" if left else ""
        console.print(
            f"[yellow]warning:[/yellow] the backend failed on {report.backend_failed} items "
            f"(not cached: run the batch again when it is back{stopped}): "
            f"{escape(report.backend_error or '')}"
        )
    if report.outage:  # nothing the model was asked for could be written
        raise typer.Exit(2)


@generate_app.command("prune")
def generate_prune_cmd(
    other_models: Annotated[
        bool,
        typer.Option(
            "--other-models",
            help="Also drop texts of other models, guardrail settings or older feedcraft "
            "releases (kept by default: switching back would serve them again).",
        ),
    ] = False,
    backend: BackendOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Drop cached texts that can never be served (items edited or deleted since); report as
    JSON."""
    from dataclasses import asdict

    with _generation(config, store, backend) as service:
        report = service.prune_cache(other_models=other_models)
    _print_json(asdict(report))


def _names(csv: str) -> list[str]:
    return [n.strip() for n in csv.split(",") if n.strip()]


@app.command("delete-items")
def delete_items_cmd(
    item_ids: Annotated[list[str], typer.Argument(help="Ids of the items to take down.")],
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Delete items: catalogue, vectors, cached texts (events are kept). Ids the store does
    not hold are reported, not an error, so a repeated deletion succeeds. New events naming a
    deleted item are refused until the item is stored again (POST /items, or an items file
    through `feedcraft import`)."""
    from feedcraft.services.items import delete_items

    with opened(config, store, missing="check --store") as (_, st):
        report = delete_items(st, item_ids)
    console.print(escape(report.summary()))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
