"""The mirror's tables: the audience, the campaigns, and the sync runs that fill them."""

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

__all__ = [
    "Campaign", "CampaignStatus", "Contact", "ContactList", "CustomField", "EmailActivity",
    "EmailStatus", "ListMembership", "MirroredModel", "SyncAnomaly", "SyncRun", "Tag", "Tagging",
]
