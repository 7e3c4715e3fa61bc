"""The mirror's tables: the audience and its segments, the campaigns and their
tracking events, and the sync runs that fill them."""

from apps.mirror.models.anomalies import SyncAnomaly
from apps.mirror.models.audience import (
    Contact,
    ContactList,
    CustomField,
    EmailStatus,
    ListMembership,
    MirroredModel,
    Tag,
    Tagging,
)
from apps.mirror.models.campaigns import Campaign, CampaignStatus, EmailActivity
from apps.mirror.models.runs import SyncRun
from apps.mirror.models.segments import Segment
from apps.mirror.models.tracking import TrackingEvent

__all__ = [
    "Campaign", "CampaignStatus", "Contact", "ContactList", "CustomField", "EmailActivity",
    "EmailStatus", "ListMembership", "MirroredModel", "Segment", "SyncAnomaly", "SyncRun", "Tag",
    "Tagging", "TrackingEvent",
]
