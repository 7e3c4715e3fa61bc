"""Reads of exact segment counts: the latest one of a segment, and one count
scoped to the member's workspace (404 for any other)."""

from django.shortcuts import get_object_or_404

from apps.accounts.models import Workspace
from apps.mirror.models import Segment
from apps.segments.models import SegmentCount


def segment_count_latest(*, segment: Segment) -> SegmentCount | None:
    """The segment's most recent exact count (running or finished), if any."""
    return SegmentCount.objects.filter(segment=segment).select_related("requested_by").first()


def segment_count_for(*, workspace: Workspace, segment: Segment, count_id: int) -> SegmentCount:
    return get_object_or_404(SegmentCount, pk=count_id, workspace=workspace, segment=segment)


def segment_count_is_current(*, count: SegmentCount, segment: Segment) -> bool:
    """False once the segment was edited after the count was asked for."""
    return count.segment_edited_at == segment.updated_upstream
