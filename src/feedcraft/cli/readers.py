"""Readers' rights from the command line: consent decisions and erasure (`services.consent`,
`services.erasure`), the same services as PUT /users/{id}/consent and DELETE /users/{id}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from feedcraft.cli.common import ConfigOpt, StoreOpt, app, console, opened, readers_of
from feedcraft.domain import Consent


@app.command("consent")
def consent_cmd(
    user_id: Annotated[str, typer.Argument(help="The reader.")],
    personalisation: Annotated[
        bool | None,
        typer.Option(
            "--personalisation/--no-personalisation",
            help="Their events rank their feed and shape their summaries.",
            show_default=False,
        ),
    ] = None,
    ads: Annotated[
        bool | None,
        typer.Option(
            "--ads/--no-ads", help="Their interests aim ad copy at them.", show_default=False
        ),
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Show a reader's consent and the history of their decisions (JSON), or record decisions:
    the purposes given change, the others keep their choice (PUT /users/{id}/consent replaces
    them all)."""
    from feedcraft.services.consent import ConsentPolicy

    given = {"personalisation": personalisation, "ads": ads}
    with opened(config, store, missing="check --store") as (settings, st):
        policy = ConsentPolicy(st, settings.privacy)
        reader = readers_of(settings).reader(user_id)
        state = policy.state(reader)
        if any(v is not None for v in given.values()):
            choices = {p.value: v for p, v in state.consent.choices.items()}
            choices |= {k: v for k, v in given.items() if v is not None}
            state = policy.record(reader, choices)
        history = policy.history(reader)
    consent = state.consent
    out = {
        "user_id": user_id,
        "choices": {p.value: v for p, v in consent.choices.items()},
        "effective": {p.value: v for p, v in state.effective.items()},
        "default": state.default,
        "updated_at": consent.updated_at.isoformat() if consent.updated_at else None,
        "history": [_decision(c) for c in history],
    }
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def _decision(consent: Consent) -> dict[str, object]:
    stamp = consent.updated_at.isoformat() if consent.updated_at else None
    return {"choices": {p.value: v for p, v in consent.choices.items()}, "updated_at": stamp}


def _id_lines(path: Path) -> list[str]:
    """Ids, one per line, stripped; blank lines skipped. A line that is not UTF-8 is named,
    not guessed at: an erasure must not miss a reader to a decoding error."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    ids = []
    for number, line in enumerate(raw.splitlines(), 1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise typer.BadParameter(f"line {number} is not UTF-8 (in {path})") from None
        if text:
            ids.append(text)
    return ids


@app.command("erase-users")
def erase_users_cmd(
    user_ids: Annotated[
        list[str] | None, typer.Argument(help="Ids of the readers to erase.", show_default=False)
    ] = None,
    ids_file: Annotated[
        Path | None,
        typer.Option("--ids-file", help="A file of reader ids, one per line (blank ones skipped)."),
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Erase readers: their events, and their ids and histories in every stored model version
    (each rewritten without them), nothing left readable in the store's files. Ids the store
    does not know are no error, so a repeated erasure succeeds. A running server reloads the
    rewritten models at its next request."""
    from feedcraft.services.erasure import erase_users

    ids = list(user_ids or [])
    if ids_file is not None:
        ids += _id_lines(ids_file)
    if not ids:
        raise typer.BadParameter("name at least one reader id, or --ids-file")
    with opened(config, store, missing="check --store") as (settings, st):
        stored = readers_of(settings).readers(ids)
        report = erase_users(st, stored, progress=settings.progress)
    console.print(escape(report.summary()))
