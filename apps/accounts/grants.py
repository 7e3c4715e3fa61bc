"""What a role may do: areas, access levels, capabilities and the preset roles.

A role grants each area none, read or write access, plus two capabilities:
*approve* (campaigns) and *send* (schedule and unschedule). Workspace
administration (members, roles, settings, the audit log, the Constant Contact
connection) belongs to the `account` area with write access.
"""

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Area(StrEnum):
    CONTACTS = "contacts"
    LISTS = "lists"
    TAGS = "tags"
    CUSTOM_FIELDS = "custom_fields"
    SEGMENTS = "segments"
    BULK = "bulk"
    CAMPAIGNS = "campaigns"
    REPORTS = "reports"
    ACCOUNT = "account"

    @property
    def label(self) -> str:
        return AREA_LABELS[self]


AREA_LABELS = {
    Area.CONTACTS: "Contacts",
    Area.LISTS: "Lists",
    Area.TAGS: "Tags",
    Area.CUSTOM_FIELDS: "Custom fields",
    Area.SEGMENTS: "Segments",
    Area.BULK: "Bulk jobs",
    Area.CAMPAIGNS: "Campaigns",
    Area.REPORTS: "Reports",
    Area.ACCOUNT: "Account",
}


class Access(IntEnum):
    """Ordered, so that write implies read."""

    NONE = 0
    READ = 1
    WRITE = 2

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @classmethod
    def parse(cls, value: str) -> "Access":
        return cls[value.upper()]


class Capability(StrEnum):
    APPROVE = "approve"
    SEND = "send"


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    description: str
    grants: dict[Area, Access]
    can_approve: bool = False
    can_send: bool = False


def _all(access: Access, **overrides: Access) -> dict[Area, Access]:
    grants = {area: access for area in Area}
    grants.update({Area(name): level for name, level in overrides.items()})
    return grants


PRESETS = (
    Preset(
        key="viewer",
        name="Viewer",
        description="Reads everything; changes nothing.",
        grants=_all(Access.READ),
    ),
    Preset(
        key="editor",
        name="Editor",
        description="Edits contacts, lists, segments and campaign drafts; runs bulk jobs.",
        grants=_all(Access.WRITE, reports=Access.READ, account=Access.READ),
    ),
    Preset(
        key="approver",
        name="Approver",
        description="Reads everything, approves campaigns and schedules approved sends.",
        grants=_all(Access.READ),
        can_approve=True,
        can_send=True,
    ),
    Preset(
        key="admin",
        name="Admin",
        description="Everything, including members, roles, the connection and the audit log.",
        grants=_all(Access.WRITE),
        can_approve=True,
        can_send=True,
    ),
)
PRESETS_BY_KEY = {preset.key: preset for preset in PRESETS}
