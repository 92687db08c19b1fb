"""Rule violation records shared by the calendar and eligibility checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable code, a French message saying how to fix, the value."""

    code: str
    message: str
    value: Any = None
    # the workbook rows the violation names (a client on several rows), as in Issue.rows
    rows: tuple[int, ...] | None = None

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"
