"""Writing mirrored segments from Constant Contact's answers.

The segments area saves each write's answer here (a SegmentDetail, with its
criteria), and its sync replaces the whole collection with a full listing:
a segment Constant Contact no longer lists was deleted there, and leaves the
mirror too (contract §3.5: deleted segments are not listed).
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.mapping import segment_fields_from_upstream
from apps.mirror.models import Segment


def segment_mirror_save(*, workspace: Workspace, data: dict) -> Segment:
    """Create or update one segment's row from a SegmentDetail (segment_id is an
    integer upstream, text in the mirror like every other id)."""
    row, _ = Segment.objects.update_or_create(
        workspace=workspace, cc_id=str(data["segment_id"]),
        defaults={**segment_fields_from_upstream(data), "synced_at": timezone.now()},
    )
    return row


def segment_mirror_delete(*, segment: Segment) -> None:
    segment.delete()


def segments_mirror_replace(*, workspace: Workspace, items: Iterable[dict]
                            ) -> tuple[int, int, int]:
    """Make the workspace's mirrored segments exactly `items` (a complete listing,
    each a SegmentDetail or a SegmentMaster: a row keeps its criteria when the item
    carries none). Returns (created, updated, deleted)."""
    now = timezone.now()
    wanted = {str(item["segment_id"]): segment_fields_from_upstream(item) for item in items}
    existing = {row.cc_id: row for row in Segment.objects.filter(workspace=workspace)}
    to_create, to_update = [], []
    for cc_id, fields in wanted.items():
        row = existing.get(cc_id)
        if row is None:
            to_create.append(Segment(workspace=workspace, cc_id=cc_id, synced_at=now, **fields))
            continue
        for name, value in fields.items():
            setattr(row, name, value)
        row.synced_at = now
        to_update.append(row)
    gone = [row.pk for cc_id, row in existing.items() if cc_id not in wanted]
    with transaction.atomic():
        Segment.objects.bulk_create(to_create)
        if to_update:
            Segment.objects.bulk_update(
                to_update, fields=["name", "criteria", "created_upstream", "updated_upstream",
                                   "raw", "synced_at"],
            )
        if gone:
            Segment.objects.filter(pk__in=gone).delete()
    return len(to_create), len(to_update), len(gone)
