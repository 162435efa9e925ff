"""Typed field readers for JSON Lines records; each failure names the field, file and line."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from feedcraft.domain.time import ensure_utc
from feedcraft.errors import InvalidInput
from feedcraft.formats._common import unix_time


@dataclass(frozen=True, slots=True)
class Fields:
    """One parsed line: its object, and where it came from for error messages."""

    obj: Mapping[str, Any]
    source: Path
    line: int

    def error(self, key: str, message: str) -> InvalidInput:
        return InvalidInput(message, field=key, source=str(self.source), line=self.line)

    def present(self, key: str) -> bool:
        return self.obj.get(key) is not None

    def ident(self, key: str) -> str:
        """A required id: a non-empty string, or an integer turned into its decimal string."""
        value = self.required(key)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(key, f"expected a string or an integer id, got {_kind(value)}")
        text = str(value).strip()
        if not text:
            raise self.error(key, "empty id")
        return text

    def optional_ident(self, key: str) -> str | None:
        return self.ident(key) if self.present(key) else None

    def required(self, key: str) -> Any:
        if not self.present(key):
            raise self.error(key, "required key missing")
        return self.obj[key]

    def string(self, key: str) -> str | None:
        return self.required_string(key) if self.present(key) else None

    def required_string(self, key: str) -> str:
        value = self.required(key)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_kind(value)}")
        return value

    def number(self, key: str) -> float | None:
        if not self.present(key):
            return None
        value = self.obj[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected a number, got {_kind(value)}")
        if not math.isfinite(value):
            raise self.error(key, "expected a finite number")
        return float(value)

    def integer(self, key: str) -> int | None:
        if not self.present(key):
            return None
        value = self.obj[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {_kind(value)}")
        return value

    def time(self, key: str) -> datetime | None:
        return self.required_time(key) if self.present(key) else None

    def required_time(self, key: str) -> datetime:
        """ISO 8601 string (naive = UTC) or Unix seconds as a number."""
        value = self.required(key)
        if isinstance(value, bool):
            raise self.error(key, "expected an ISO 8601 string or Unix seconds, got a boolean")
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise self.error(key, "expected a finite number of Unix seconds")
            return unix_time(value, field=key, source=self.source, line=self.line)
        if isinstance(value, str):
            try:
                return ensure_utc(datetime.fromisoformat(value.strip()))
            except ValueError:
                raise self.error(key, f"not an ISO 8601 date-time: {value!r}") from None
            except OverflowError:
                raise self.error(key, f"date-time out of range in UTC: {value!r}") from None
        raise self.error(key, f"expected an ISO 8601 string or Unix seconds, got {_kind(value)}")

    def string_list(self, key: str) -> list[str]:
        if not self.present(key):
            return []
        value = self.obj[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"expected a list of strings, got {_kind(value)}")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        if not self.present(key):
            return {}
        value = self.obj[key]
        if not isinstance(value, dict):
            raise self.error(key, f"expected an object, got {_kind(value)}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str | None:
        return self.required_choice(key, allowed) if self.present(key) else None

    def required_choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.required_string(key)
        if value not in allowed:
            raise self.error(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value


def _kind(value: object) -> str:
    """JSON's name for a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
