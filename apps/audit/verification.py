"""Walking the audit log's hash chain (apps/audit/chain.py) to find the first broken link.

Events are walked in id order: every writer appends under the chain head's lock
(AuditEvent.save), so ids rise along the chain. Three things can break it:

- an event's fields no longer hash to its stored hash: it was changed after it was written;
- an event's `prev_hash` is not its predecessor's hash: events between them were
  removed (or this one was slipped in);
- the last event is not the one the head names: the newest events were removed
  (or some were added past the head).

Only reads. On PostgreSQL the walk runs in one REPEATABLE READ snapshot, so
events written meanwhile neither appear half-way nor look like a break.
"""

from dataclasses import dataclass
from datetime import UTC

from django.db import connection, transaction

from apps.audit.chain import GENESIS, event_hash
from apps.audit.models import AuditChainHead, AuditEvent

# Events read per round trip.
_CHUNK_SIZE = 2000


@dataclass(frozen=True)
class ChainBreak:
    event_id: int | None  # None when the break is at the end: no event to name
    occurred_at: str  # UTC, as the export writes it; "" with no event
    action: str
    problem: str  # what differs, in a sentence


@dataclass(frozen=True)
class ChainReport:
    length: int  # events walked
    last_event_id: int | None
    last_hash: str
    first_break: ChainBreak | None

    @property
    def whole(self) -> bool:
        return self.first_break is None


def _break(event: AuditEvent, problem: str) -> ChainBreak:
    when = event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return ChainBreak(event_id=event.pk, occurred_at=when, action=event.action, problem=problem)


def _report(length: int, last: AuditEvent | None, last_hash: str,
            first_break: ChainBreak | None) -> ChainReport:
    return ChainReport(length=length, last_event_id=last.pk if last else None,
                       last_hash=last_hash, first_break=first_break)


def _walk() -> ChainReport:
    head = AuditChainHead.objects.filter(pk=AuditChainHead.ONLY).first()
    expected, length, previous = GENESIS, 0, None
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=_CHUNK_SIZE):
        if event.prev_hash != expected:
            before = f"event {previous.pk}" if previous else "the start of the chain"
            problem = (
                f"it links to {event.prev_hash or 'nothing'}, but {before} hashes to {expected}: "
                "events between them were removed, or this one was added outside the chain"
            )
            return _report(length, previous, expected, _break(event, problem))
        computed = event_hash(event, prev_hash=event.prev_hash)
        if computed != event.hash:
            problem = (
                f"its fields hash to {computed}, not to its stored hash "
                f"{event.hash or '(none)'}: it was changed after it was written, or "
                "written outside the chain"
            )
            return _report(length, previous, expected, _break(event, problem))
        expected, length, previous = event.hash, length + 1, event
    last_id = previous.pk if previous else None
    if (head is None and length) or (
        head is not None and (head.last_hash, head.length) != (expected, length)
    ):
        claims = f"{head.length} events ending at event {head.last_event_id}" if head else "none"
        cause = (
            "events were added after it, outside the chain"
            if head is None or length > head.length
            else "the newest events were removed"
        )
        problem = (
            f"the chain ends at event {last_id} after {length} events, but its head "
            f"records {claims}: {cause}"
        )
        gap = ChainBreak(event_id=None, occurred_at="", action="", problem=problem)
        return _report(length, previous, expected, gap)
    return _report(length, previous, expected, None)


def audit_chain_verify() -> ChainReport:
    """The whole chain, checked from the first event to the head."""
    # Inside a caller's transaction (tests) its snapshot rules; otherwise take our own.
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if own_transaction and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _walk()
