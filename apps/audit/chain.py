"""The audit log's hash chain: how one event's hash is computed.

Each event stores the hash of the event before it (`prev_hash`) and its own
`hash`: sha256 over a canonical serialisation of its fields and `prev_hash`.
Changing a stored event, or removing one, breaks the chain at that point, and
`manage.py verify_audit` names where (docs/audit-log.md).

The serialisation must give the same bytes for an event about to be written
and for the same event read back, on PostgreSQL and on SQLite. Two things need
care: times are written as UTC with microseconds, and numbers in `details` are
compared by their decimal value, because PostgreSQL's jsonb rewrites their text
(1e16 comes back as 10000000000000000, 1e-07 as 0.0000001).

This module reads plain attributes and imports no model, so the data migration
that chains the events written before the chain existed uses it too.
"""

from datetime import UTC, datetime
from decimal import Decimal
import hashlib
import json
from typing import Any

from django.utils import timezone

# The `prev_hash` of the very first event.
GENESIS = "0" * 64

# Bumped if the serialisation ever changes, so old and new hashes can't be confused.
_VERSION = "ccadmin-audit-v1"


def _number(value: int | float) -> str:
    text = json.dumps(value)
    number = Decimal(text)
    if not number.is_finite():
        return text
    if number == 0:  # jsonb has no negative zero
        return "0"
    digits = format(number, "f")
    return digits.rstrip("0").rstrip(".") if "." in digits else digits


def _canonical(value: Any) -> str:
    """JSON with sorted keys, no spaces and numbers in one decimal spelling."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = sorted(value.items())
        return "{" + ",".join(
            f"{json.dumps(key, ensure_ascii=False)}:{_canonical(item)}" for key, item in pairs
        ) + "}"
    raise TypeError(f"{type(value).__name__} is not JSON")


def _utc(value: datetime) -> str:
    if timezone.is_naive(value):  # as Django stores a naive time: in the default zone
        value = timezone.make_aware(value)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(event: Any, *, prev_hash: str) -> bytes:
    """The bytes an event's hash is taken over."""
    # Through JSON and back first: what the database will hand back (tuples as
    # lists, integer keys as strings), not what the caller passed.
    details = json.loads(json.dumps(event.details))
    fields = {
        "action": event.action,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "details": details,
        "occurred_at": _utc(event.occurred_at),
        "outcome": event.outcome,
        "prev_hash": prev_hash,
        "target": event.target,
        "workspace": event.workspace_id,
    }
    return f"{_VERSION}\n{_canonical(fields)}".encode()


def event_hash(event: Any, *, prev_hash: str) -> str:
    """The hash `event` carries when it follows an event whose hash is `prev_hash`."""
    return hashlib.sha256(canonical_bytes(event, prev_hash=prev_hash)).hexdigest()
