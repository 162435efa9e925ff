"""What every `feedcraft` command shares: the app, its console, the --config/--store options,
and opening settings and the store with clean errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from feedcraft.config import Settings, load_settings
from feedcraft.errors import FeedcraftError

if TYPE_CHECKING:
    from feedcraft.services.pseudonyms import Pseudonyms
    from feedcraft.storage import Store

__all__ = [
    "ConfigOpt",
    "StoreOpt",
    "app",
    "clean_errors",
    "console",
    "fail",
    "import_app",
    "opened",
    "readers_of",
    "settings_for",
]

app = typer.Typer(
    help="feedcraft: a self-hosted personalization engine for media.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(
    help="Import data into the store (idempotent, streaming). Deleted items: an item in the "
    "files is stored again (that restores it); an event naming a deleted item the files do not "
    "hold stops the import at its line, with its batch rejected whole (never skipped)."
)
app.add_typer(import_app, name="import")
# soft_wrap: never hard-wrap a message (a wrapped "file:line" cannot be found or copied)
console = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (else FEEDCRAFT_CONFIG).")
]
StoreOpt = Annotated[str | None, typer.Option("--store", help="Store URL (else FEEDCRAFT_STORE).")]


def settings_for(config: Path | None, store: str | None) -> Settings:
    overrides = {"store": store} if store else {}
    return load_settings(config, **overrides)


def fail(exc: Exception) -> NoReturn:
    console.print(f"[red]error:[/red] {escape(str(exc))}")
    raise typer.Exit(2)


@contextmanager
def clean_errors() -> Iterator[None]:
    """A feedcraft error inside ends the command with its message (exit 2), no traceback."""
    try:
        yield
    except FeedcraftError as exc:
        fail(exc)


@contextmanager
def opened(
    config: Path | None, store: str | None, *, missing: str | None = None
) -> Iterator[tuple[Settings, Store]]:
    """Settings and the open store for one command; feedcraft errors end it cleanly (exit 2).
    With `missing` (what to do instead), a store that does not exist is an error saying so,
    not created empty: for commands that only read one."""
    from feedcraft.errors import NotFound
    from feedcraft.storage import open_store

    with clean_errors():
        settings = settings_for(config, store)
        try:
            st = open_store(settings.store, create=missing is None)
        except NotFound as exc:
            raise NotFound(f"{exc}: {missing}") from None
        with closing(st):
            readers_of(settings).check_store(st)
            yield settings, st


def readers_of(settings: Settings) -> Pseudonyms:
    """Reader ids as the store keeps them (`[privacy] pseudonym_key`): every id a command
    takes from its user goes through it."""
    from feedcraft.services.pseudonyms import Pseudonyms

    return Pseudonyms(settings.privacy.pseudonym_key)
