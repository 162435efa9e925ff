"""Erase readers: their events, their consent record, and their ids and histories in every
stored model.

A reader's behaviour lives in two places: the event log, and every saved version of every
trained recommender, which keeps each reader's id and training history (to exclude what they
have seen, to explain its picks). Erasing only the events would leave a model that still names
them, served and rolled back to for weeks. So each stored version that knew any of the readers
is loaded, stripped of them (`Recommender.forget_users`), saved as a new version and the old
one deleted; versions keep their order, so the served one and those to roll back to stay what
they were, less the readers; a version under a newer one that never knew them is deleted
instead, never made the newest again (`_Scrub`). Deleting goes through the stores' erasure
(SQLite: secure_delete and a WAL checkpoint), so neither the events nor the old models stay
readable in the database files.

Events go first: a training run that starts after them cannot learn the readers again. One
that was already fitting takes out, before it saves, every reader with no event left
(`services.training`), and the rewrite here looks again for new versions until it finds
none. Running an erasure again is always safe: it rewrites only versions that know someone.

What a model learned across readers (factors, similarities, trees) names no one and stays
until the next training. Generated texts are cached per interest bucket, never per reader
(`reader_interests`), so there is nothing of a reader to erase there. A server process
reloads the rewritten models at its next request (it serves the newest version); the API's
erasure also drops the models its own process holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from feedcraft.domain import MAX_ID_LENGTH
from feedcraft.errors import NotFound, Unavailable
from feedcraft.services.id_lists import checked_ids
from feedcraft.services.models import PREFIX, artifact_name, load_model
from feedcraft.storage import Store, model_pickle

__all__ = ["ErasureReport", "erase_users"]


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed: events, consent records, model versions. `models` maps a
    model to the versions written in place of versions that knew the readers (old -> new);
    `unreadable` lists versions that could not be loaded to be checked (damaged, refused)
    and were deleted, since they may name them; `dropped`, versions that knew them under a
    newer version that never did, deleted rather than made the newest again."""

    users: tuple[str, ...]
    events: int
    consents: int
    models: dict[str, dict[int, int]] = field(default_factory=dict)
    unreadable: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()

    def summary(self) -> str:
        n = len(self.users)
        rewritten = sum(len(v) for v in self.models.values())
        text = (
            f"erased {n} reader{'' if n == 1 else 's'}: {self.events} events, "
            f"{self.consents} consent record{'' if self.consents == 1 else 's'}, "
            f"{rewritten} model version{'' if rewritten == 1 else 's'} rewritten without them"
        )
        if self.models:
            text += " (" + ", ".join(f"{m}: {len(v)}" for m, v in sorted(self.models.items())) + ")"
        if self.unreadable:
            text += f"; deleted unreadable: {', '.join(self.unreadable)}"
        if self.dropped:
            text += f"; deleted under a newer version without them: {', '.join(self.dropped)}"
        return text


def erase_users(store: Store, user_ids: Sequence[str], *, progress: bool = False) -> ErasureReport:
    """Erase the readers' events and strip them from every stored model version (see the
    module docstring). Ids the store does not know are no error: erasing twice succeeds."""
    ids = checked_ids(user_ids, field="user_ids", what="user id", max_length=MAX_ID_LENGTH)
    events = sum(store.events.delete_user(u) for u in ids)
    consents = sum(store.consents.delete(u) for u in ids)
    report = _Scrub(store, ids, progress)
    while report.one_pass():  # again while a training run saved a version meanwhile
        pass
    return ErasureReport(
        tuple(ids), events, consents, report.models, tuple(report.unreadable), tuple(report.dropped)
    )


class _Scrub:
    """Passes over the stored model versions, each checked once.

    A version that knew the readers is saved again without them only where no version after it
    stays as it is: a rewrite is saved as the newest, so rewriting an old version under a newer
    one that never knew them (a model trained after their events were gone, or while this
    erasure ran) would serve the old model again. Such an old version is deleted instead: it
    was only a version to roll back to."""

    def __init__(self, store: Store, ids: list[str], progress: bool) -> None:
        self.store = store
        self.ids = ids
        self.progress = progress
        self.checked: set[tuple[str, int]] = set()
        self.models: dict[str, dict[int, int]] = {}
        self.unreadable: list[str] = []
        self.dropped: list[str] = []
        self.saved: set[tuple[str, int]] = set()  # versions this erasure wrote

    def one_pass(self) -> bool:
        """Check every version not checked yet; False when there was none."""
        todo = {
            name: [v.version for v in self.store.artifacts.versions(artifact_name(name))]
            for name in _model_names(self.store)
        }
        todo = {n: [v for v in vs if (n, v) not in self.checked] for n, vs in todo.items()}
        total = sum(len(vs) for vs in todo.values())
        if not total:
            return False
        with tqdm(total=total, desc="models", unit="version", disable=not self.progress) as bar:
            for name, versions in todo.items():
                self._model(name, versions, bar)
        return True

    def _model(self, name: str, versions: list[int], bar: tqdm) -> None:
        scrubbed: dict[int, tuple[bytes, dict[str, Any]]] = {}
        clean: list[int] = []  # versions that knew none of the readers
        for version in versions:
            self.checked.add((name, version))
            bar.update()
            try:
                model, info = load_model(self.store, name, version)
            except Unavailable:  # damaged or refused: it cannot be checked, so it goes
                if _delete(self.store, name, version):
                    self.unreadable.append(f"{name} v{version}")
                continue
            known = model.forget_users(self.ids)
            if not known:
                clean.append(version)
                continue
            metadata = {
                **info.metadata,
                "rewritten_from": version,
                "erased_readers": int(info.metadata.get("erased_readers", 0)) + known,
            }
            scrubbed[version] = (model_pickle.dumps(model), metadata)
        for version, (blob, metadata) in scrubbed.items():
            if self._superseded(name, version, versions, clean):
                if _delete(self.store, name, version):
                    self.dropped.append(f"{name} v{version}")
                continue
            new = self.store.artifacts.save(artifact_name(name), blob, metadata)
            self.checked.add((name, new))
            self.saved.add((name, new))
            self.models.setdefault(name, {})[version] = new
            _delete(self.store, name, version)

    def _superseded(self, name: str, version: int, versions: list[int], clean: list[int]) -> bool:
        """Whether a version that stays as it is comes after `version`: one checked clean, or
        one a training run saved since this pass listed them (not a rewrite of this erasure)."""
        if any(v > version for v in clean):
            return True
        stored = self.store.artifacts.versions(artifact_name(name))
        newest = stored[-1].version if stored else version
        return newest not in versions and (name, newest) not in self.saved


def _model_names(store: Store) -> list[str]:
    """Every model the store holds versions of, those no longer trained too."""
    return [name.removeprefix(PREFIX) for name in store.artifacts.names(PREFIX)]


def _delete(store: Store, name: str, version: int) -> bool:
    """Delete a version; False when a training run pruned it meanwhile (nothing left)."""
    try:
        store.artifacts.delete(artifact_name(name), version)
    except NotFound:
        return False
    return True
