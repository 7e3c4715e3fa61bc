"""What an approval covers: a canonical snapshot of the outgoing email and its hash.

An approval is bound to the fingerprint of exactly what would go out — subject,
sender, content, the footer's physical address, audience and planned send time.
Nothing is normalised away from the HTML (any byte change voids an approval: a
reviewer approved those bytes); only things whose order carries no meaning (list
and segment ids, the address's keys) are sorted, and the planned send time is
written in UTC so a time-zone change of display never looks like a change of
content.

An approval is always compared on the fields its own snapshot holds
(`approval_covers`): one given before a field joined the fingerprint (the footer
address, in December 2026) still vouches for what it saw, and is not voided just
because the fingerprint grew.
"""

import difflib
import hashlib
import json
from datetime import UTC, datetime

# Field order is the order the diff shows changes in.
SNAPSHOT_FIELDS = (
    "subject",
    "from_name",
    "from_email",
    "reply_to_email",
    "preheader",
    "contact_list_ids",
    "segment_ids",
    "planned_send_at",
    "physical_address_in_footer",
    "html_content",
)

FIELD_LABELS = {
    "subject": "Subject",
    "from_name": "From name",
    "from_email": "From address",
    "reply_to_email": "Reply-to address",
    "preheader": "Preheader",
    "contact_list_ids": "Lists",
    "segment_ids": "Segments",
    "planned_send_at": "Planned send time",
    "physical_address_in_footer": "Footer address",
    "html_content": "Content (HTML)",
}


def _utc_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        # Django stores aware datetimes; a naive one here is a bug elsewhere, but
        # treating it as UTC keeps the fingerprint stable rather than crashing.
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _sorted_ids(values) -> list[str]:
    return sorted(str(value) for value in (values or []))


def outgoing_snapshot(email) -> dict:
    """The values of `email` (an EmailActivity) that an approval vouches for."""
    return {
        "subject": email.subject or "",
        "from_name": email.from_name or "",
        "from_email": email.from_email or "",
        "reply_to_email": email.reply_to_email or "",
        "preheader": email.preheader or "",
        "html_content": email.html_content or "",
        "contact_list_ids": _sorted_ids(email.contact_list_ids),
        "segment_ids": _sorted_ids(email.segment_ids),
        "planned_send_at": _utc_iso(email.planned_send_at),
        "physical_address_in_footer": dict(email.physical_address_in_footer or {}),
    }


def fingerprint(snapshot: dict) -> str:
    """sha256 of the snapshot's canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(
        snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _html_diff(old: str, new: str) -> list[str]:
    lines = difflib.unified_diff(
        (old or "").splitlines(),
        (new or "").splitlines(),
        fromfile="approved",
        tofile="now",
        lineterm="",
    )
    return list(lines)


def snapshot_diff(old: dict, new: dict) -> list[dict]:
    """Per-field changes from `old` to `new`, in display order.

    Each change is {"field", "label", "old", "new"}; the HTML change also carries
    "diff": the unified diff's lines (a template shows them in a <pre>).
    """
    changes = []
    fields = list(SNAPSHOT_FIELDS) + sorted(
        (set(old) | set(new)) - set(SNAPSHOT_FIELDS)
    )
    for field in fields:
        before, after = old.get(field), new.get(field)
        if before == after:
            continue
        change = {
            "field": field,
            "label": FIELD_LABELS.get(field, field.replace("_", " ").capitalize()),
            "old": before,
            "new": after,
        }
        if field == "html_content":
            change["diff"] = _html_diff(before or "", after or "")
        changes.append(change)
    return changes


def snapshot_as_approved(email, approved_snapshot: dict) -> dict:
    """`email`'s snapshot over the fields `approved_snapshot` holds (see the module's
    docstring on approvals older than a field)."""
    now = outgoing_snapshot(email)
    return {field: now.get(field) for field in approved_snapshot}


def approval_covers(approval, email) -> bool:
    """Whether `approval` (an Approval) vouches for exactly what `email` would send."""
    return fingerprint(snapshot_as_approved(email, approval.snapshot)) == approval.fingerprint


def changes_since_approval(approval, email) -> list[dict]:
    """What changed in `email` since `approval` was asked for (see `snapshot_diff`)."""
    return snapshot_diff(approval.snapshot, snapshot_as_approved(email, approval.snapshot))
