"""Reads for the segments screens: one segment (404 for another workspace's), the
list with each segment's rules in words, how close the account is to Constant
Contact's limit of 100 segments, and what a segment's page shows.

Nothing here calls Constant Contact: browsing segments, and estimating their
size from the mirror, cost no API quota.
"""

from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from apps.accounts.models import Workspace
from apps.mirror.criteria import Criteria, Vocabulary, criteria_phrases, criteria_sentence
from apps.mirror.models import Campaign, Segment
from apps.mirror.selectors.segments import (
    Estimate,
    campaigns_using_segment,
    criteria_vocabulary,
    segment_criteria,
    segment_estimate,
    segments_of,
)

# "An account can have at most 100 segments" (the simulator's 400 mirrors
# Constant Contact's limit; issue 10). Warn from nine tenths, before anyone hits it.
MAX_SEGMENTS = 100
SEGMENTS_WARN_FROM = 90
UNREADABLE = ("Constant Contact's rules for this segment could not be read here; they are "
              "kept as they are. Open it in Constant Contact, or replace them with the builder.")


@dataclass(frozen=True)
class SegmentUsage:
    used: int
    limit: int = MAX_SEGMENTS
    warn_from: int = SEGMENTS_WARN_FROM

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def is_full(self) -> bool:
        return self.used >= self.limit

    @property
    def is_near(self) -> bool:
        return self.warn_from <= self.used < self.limit


@dataclass(frozen=True)
class SegmentRow:
    segment: Segment
    words: str  # the rules as one sentence


def segment_usage(*, workspace: Workspace) -> SegmentUsage:
    return SegmentUsage(used=segments_of(workspace=workspace).count())


def segment_for(*, workspace: Workspace, segment_id: int) -> Segment:
    """The workspace's segment `segment_id` (our row id); 404 for any other."""
    return get_object_or_404(Segment, pk=segment_id, workspace=workspace)


def segment_rows(*, workspace: Workspace) -> list[SegmentRow]:
    vocabulary = criteria_vocabulary(workspace=workspace)
    rows = []
    for segment in segments_of(workspace=workspace):
        criteria = segment_criteria(segment)
        words = criteria_sentence(criteria, vocabulary) if criteria else UNREADABLE
        rows.append(SegmentRow(segment=segment, words=words))
    return rows


@dataclass(frozen=True)
class SegmentFacts:
    """What a segment's page shows besides the row itself."""

    criteria: Criteria | None
    phrases: list[str]  # one per top-level rule or group; all of them hold
    estimate: Estimate | None  # None: not worked out (the member may not see sizes)
    sendable: Estimate | None  # of those, how many Constant Contact would email
    campaigns: list[Campaign]  # campaigns (not deleted) sent to it
    vocabulary: Vocabulary


def segment_facts(*, segment: Segment, with_size: bool = True) -> SegmentFacts:
    """`with_size=False` leaves the estimates out, for members who may not read
    contacts: a size is contact-level data."""
    vocabulary = criteria_vocabulary(workspace=segment.workspace_id)
    criteria = segment_criteria(segment)
    return SegmentFacts(
        criteria=criteria,
        phrases=criteria_phrases(criteria, vocabulary) if criteria else [],
        estimate=segment_estimate(segment=segment) if with_size else None,
        sendable=segment_estimate(segment=segment, sendable_only=True) if with_size else None,
        campaigns=campaigns_using_segment(workspace=segment.workspace_id, cc_id=segment.cc_id),
        vocabulary=vocabulary,
    )


def scheduled_campaigns_using(*, segment: Segment) -> list[Campaign]:
    return campaigns_using_segment(workspace=segment.workspace_id, cc_id=segment.cc_id,
                                   scheduled_only=True)
