"""What an approval covers: a canonical snapshot of the outgoing email and its hash.

An approval is bound to the fingerprint of exactly what would go out — subject,
sender, content, audience and planned send time. Nothing is normalised away from
the HTML (any byte change voids an approval: a reviewer approved those bytes);
only things whose order carries no meaning (list and segment ids) are sorted, and
the planned send time is written in UTC so a time-zone change of display never
looks like a change of content.
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
