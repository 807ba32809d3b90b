"""The verify report: one row per check (ok / MISMATCH / skipped, with the reason)."""

from __future__ import annotations

from dataclasses import dataclass, field

MISMATCH_EXIT = 3


@dataclass
class Report:
    rows: list[dict[str, str]] = field(default_factory=list)

    def add(self, check: str, subject: str, status: str, detail: str = "") -> None:
        self.rows.append({"check": check, "subject": subject, "status": status, "detail": detail})

    def ok(self, check: str, subject: str, detail: str = "") -> None:
        self.add(check, subject, "ok", detail)

    def bad(self, check: str, subject: str, detail: str) -> None:
        self.add(check, subject, "MISMATCH", detail)

    def skip(self, check: str, subject: str, detail: str) -> None:
        self.add(check, subject, "skipped", detail)

    @property
    def mismatches(self) -> list[dict[str, str]]:
        return [r for r in self.rows if r["status"] == "MISMATCH"]
