"""A broken rule of one order, as `calendars.check_bon_commande` reports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable code, a French message saying how to fix, the value."""

    code: str
    message: str
    value: Any = None

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"
