"""Remove erased readers from a fitted model, so that a saved model names none of them.

A fitted model keeps each reader's id and training history (`interactions_`, `history_`) to
exclude what they have seen and to explain its picks; composite models keep them once per
part (the ranker's candidate sources, each with its own fitted copy). Rather than each model
listing its parts, which a new part would silently escape, the fitted state is walked: every
feedcraft object reachable from the model through attributes and containers that holds
`interactions_` loses the readers' rows, and its `history_` the same rows. The model check
suite holds every registered model to it by searching the pickled bytes for the ids.

What is learned across readers (item factors, similarities, trees) is left as it is: it
names no one, and the next training learns it without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from feedcraft.domain import Interactions

__all__ = ["forget_users"]

_OWN = "feedcraft."


def forget_users(model: object, user_ids: Iterable[str]) -> int:
    """Drop the users from every part of `model` in place; returns how many of them it knew."""
    wanted = list(dict.fromkeys(user_ids))
    # old values kept alive in the memos: a freed one's id() could be reused by another. Parts
    # that shared an Interactions or a history (the ranker's reweighted sources) share the
    # new one too, so the saved model does not grow.
    memo: dict[int, tuple[Interactions, Interactions, np.ndarray]] = {}
    histories: dict[int, tuple[object, object]] = {}
    arrays: dict[tuple[object, ...], tuple[object, object]] = {}
    known: set[str] = set()
    for part in list(_parts(model)):
        state = vars(part)
        old = state.get("interactions_")
        if not isinstance(old, Interactions):
            continue
        if id(old) not in memo:
            new, kept = old.without_users(wanted)
            memo[id(old)] = (old, _sharing(old, new, arrays), kept)
            known.update(u for u in wanted if u in old.users)
        _, new, kept = memo[id(old)]
        if new is old:
            continue
        history = state.get("history_")
        if history is not None:
            if history.shape[0] != len(old.users):
                raise RuntimeError(
                    f"{type(part).__name__}.history_ has {history.shape[0]} rows for "
                    f"{len(old.users)} users; cannot tell which rows are whose"
                )
            if id(history) not in histories:
                histories[id(history)] = (history, history[kept])
            part.history_ = histories[id(history)][1]  # type: ignore[attr-defined]
        part.interactions_ = new  # type: ignore[attr-defined]
    return len(known)


def _sharing(
    old: Interactions, new: Interactions, seen: dict[tuple[object, ...], tuple[object, object]]
) -> Interactions:
    """`new` with each of its parts replaced by the one made before from the same old part
    under the same readers (Interactions that shared arrays, as a source's copy on another
    item space does, share them again), so pickling stores each once."""
    if new is old:
        return old
    readers = (id(old.users), id(old.user_pos))

    def once(tag: str, before: object, after: Any) -> Any:
        key = (tag, id(before), *readers)
        if key not in seen:
            seen[key] = (before, after)  # `before` kept alive: its id() stays its own
        return seen[key][1]

    return Interactions(
        once("users", old.users, new.users),
        new.items,
        once("user_pos", old.user_pos, new.user_pos),
        once("item_pos", old.item_pos, new.item_pos),
        once("weights", old.weights, new.weights),
        once("timestamps", old.timestamps, new.timestamps),
    )


def _parts(root: object) -> Iterator[object]:
    """`root` and every feedcraft object reachable from it through instance attributes,
    dicts, lists, tuples and sets, each once (depth first)."""
    seen: set[int] = set()
    stack: list[object] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif _is_part(obj):
            yield obj
            stack.extend(vars(obj).values())


def _is_part(obj: object) -> bool:
    """A feedcraft object with attributes (not the Interactions being replaced)."""
    own = type(obj).__module__.startswith(_OWN) and hasattr(obj, "__dict__")
    return own and not isinstance(obj, Interactions)
