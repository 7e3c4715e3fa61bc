"""The audit log as CSV, streamed row by row so a large export never sits in memory.

Audit rows hold text that outsiders chose (a contact's name, a typed email, a
campaign subject). A spreadsheet would run a cell starting with "=" as a
formula, so every such cell is defused with a leading single quote, as OWASP's
"CSV Injection" page recommends — also when spaces, tabs or line breaks come
before the "=", since spreadsheets skip those first.
"""

from collections.abc import Iterable, Iterator
import csv
from datetime import UTC
import json

from apps.audit.models import AuditEvent

COLUMNS = ("time_utc", "actor", "workspace", "action", "target", "outcome", "details")

# OWASP: cells beginning with these are read as formulas by Excel, LibreOffice and Sheets.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets drop leading spaces (the non-breaking and other Unicode ones too)
# before they look for a formula, so " =1+1" is as live as "=1+1". str.isspace()
# knows the Unicode spaces; these invisible characters are dropped the same way.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

# Rows fetched from the database per round trip while streaming.
_CHUNK_SIZE = 1000


def _first_visible(value: str) -> str:
    for char in value:
        if not (char.isspace() or char in _INVISIBLE):
            return char
    return ""


def neutralise(value: str) -> str:
    """The cell, made inert for spreadsheets: quoted when it starts with a
    trigger, or when its first character past any whitespace is one."""
    if value.startswith(_FORMULA_TRIGGERS) or _first_visible(value) in _FORMULA_TRIGGERS:
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _cells(event: AuditEvent) -> list[str]:
    return [
        event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        event.actor_label,
        event.workspace.name if event.workspace_id else "",
        event.action,
        event.target,
        event.outcome,
        json.dumps(event.details, sort_keys=True, ensure_ascii=False, default=str),
    ]


def audit_csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The header and one CSV line per event, every cell neutralised."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    iterate = events.iterator(chunk_size=_CHUNK_SIZE) if hasattr(events, "iterator") else events
    for event in iterate:
        yield writer.writerow([neutralise(cell) for cell in _cells(event)])
