"""The curated mirror reads: contacts, lists, tags, segments, campaigns and a
campaign's report, answered from the mirror through the areas' own selectors.

They cost 0 API calls and pass no gate; each checks the agent's own grant and
its endpoint allow-list, naming the catalog endpoints it stands for (an agent
allowed only tags.create reads no contacts here either; tools.read_refusal:
tools.read_tools lists only those it may use, calls.py checks again) and every
answer says how fresh its data is: when the mirror last synced that scope,
whether a sync is running, whether the last one failed. Ids are Constant
Contact's (contact_id, list_id, ...), so an answer feeds the endpoint tools.
"""

from datetime import datetime
from typing import Any

from apps.accounts.grants import Access, Area
from apps.accounts.models import Agent
from apps.agents.mcp.errors import NOT_FOUND, ToolError, invalid_arguments
from apps.agents.mcp.tools import Read, endpoints_allowed
from apps.campaigns.selectors.campaigns import campaign_email, campaign_rows
from apps.contacts.selectors.contacts import Sort, contact_detail, contact_page
from apps.contacts.selectors.lists import list_rows
from apps.contacts.selectors.tags import tag_rows
from apps.mirror.models import Campaign, Contact, ContactList, SyncRun, Tag
from apps.mirror.selectors.contacts import STATUS_VALUES, ContactFilters, contact_filter
from apps.mirror.selectors.runs import sync_freshness
from apps.reporting.selectors.reports import engaged_contacts, freshness_of, report_of
from apps.segments.selectors.segments import segment_rows

R = Access.READ
MAX_CONTACTS = 100  # one answer's worth; search again more narrowly for more
# What a campaign report's numbers come from, and who engaged (contact-level data).
REPORT_STATS = ("reports.campaign_summaries", "reports.campaign_stats", "reports.activity_stats")
WHO_ENGAGED = ("reports.tracking_opens", "reports.tracking_clicks")


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def freshness(agent: Agent, scope: str) -> dict[str, Any]:
    fresh = sync_freshness(workspace=agent.workspace, scope=scope)
    return {
        "scope": scope,
        "synced_at": _when(fresh.synced_at),
        "never_synced": fresh.never_synced,
        "sync_running": fresh.active is not None,
        "last_sync_failed": fresh.last_failed,
        "api_calls": 0,
    }


def _text(arguments: dict, name: str, *, required: bool = False, limit: int = 200) -> str:
    value = arguments.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise invalid_arguments(f"{name} must be a string of at most {limit} characters.")
    if required and not value.strip():
        raise invalid_arguments(f"{name} is required.")
    return value.strip()


def _contact_row(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.cc_id, "email": contact.email,
        "first_name": contact.first_name, "last_name": contact.last_name,
        "company_name": contact.company_name, "email_status": contact.email_status,
        "removed": contact.deleted_upstream is not None,
        "updated_at": _when(contact.updated_upstream),
    }


# --- the reads ---------------------------------------------------------------------------

def search_contacts(agent: Agent, arguments: dict) -> dict[str, Any]:
    workspace = agent.workspace
    status = _text(arguments, "status")
    if status and status not in STATUS_VALUES:
        raise invalid_arguments(f"status must be one of {sorted(v for v in STATUS_VALUES if v)}.")
    contact_list = tag = None
    if list_id := _text(arguments, "list_id"):
        contact_list = ContactList.objects.filter(workspace=workspace, cc_id=list_id).first()
        if contact_list is None:
            raise ToolError(NOT_FOUND, f"No list {list_id} in the mirror.")
    if tag_id := _text(arguments, "tag_id"):
        tag = Tag.objects.filter(workspace=workspace, cc_id=tag_id).first()
        if tag is None:
            raise ToolError(NOT_FOUND, f"No tag {tag_id} in the mirror.")
    limit = arguments.get("limit", 25)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_CONTACTS:
        raise invalid_arguments(f"limit must be a whole number from 1 to {MAX_CONTACTS}.")
    filters = ContactFilters(contact_list=contact_list, tag=tag, status=status)
    contacts = contact_filter(workspace=workspace, filters=filters)
    page = contact_page(contacts=contacts, sort=Sort.parse("email"), size=limit,
                        search=_text(arguments, "query"))
    return {
        "contacts": [_contact_row(c) for c in page.contacts],
        "more": page.next is not None,
        "freshness": freshness(agent, SyncRun.Scope.CONTACTS),
    }


def get_contact(agent: Agent, arguments: dict) -> dict[str, Any]:
    contact_id = _text(arguments, "contact_id", required=True)
    contact = Contact.objects.filter(workspace=agent.workspace, cc_id=contact_id).first()
    if contact is None:
        raise ToolError(NOT_FOUND, f"No contact {contact_id} in the mirror.")
    detail = contact_detail(contact=contact)
    return {
        "contact": {
            **_contact_row(contact),
            "job_title": contact.job_title,
            "opt_out_reason": contact.opt_out_reason,
            "lists": [{"list_id": lst.cc_id, "name": lst.name} for lst in detail.lists],
            "tags": [{"tag_id": tag.cc_id, "name": tag.name} for tag in detail.tags],
            "custom_fields": [{"label": row.label, "value": row.value}
                              for row in detail.custom_fields],
            "phone_numbers": contact.phone_numbers,
            "street_addresses": contact.street_addresses,
        },
        "freshness": freshness(agent, SyncRun.Scope.CONTACTS),
    }


def lists(agent: Agent, arguments: dict) -> dict[str, Any]:
    return {
        "lists": [
            {"list_id": row.cc_id, "name": row.name, "description": row.description,
             "favorite": row.favorite, "membership_count": row.membership_count,
             "delete_pending": row.delete_pending}
            for row in list_rows(workspace=agent.workspace)
        ],
        "freshness": freshness(agent, SyncRun.Scope.CONTACTS),
    }


def tags(agent: Agent, arguments: dict) -> dict[str, Any]:
    return {
        "tags": [
            {"tag_id": row.cc_id, "name": row.name, "contacts_count": row.contacts_count,
             "delete_pending": row.delete_pending}
            for row in tag_rows(workspace=agent.workspace)
        ],
        "freshness": freshness(agent, SyncRun.Scope.CONTACTS),
    }


def segments(agent: Agent, arguments: dict) -> dict[str, Any]:
    return {
        "segments": [
            {"segment_id": row.segment.cc_id, "name": row.segment.name, "rules": row.words}
            for row in segment_rows(workspace=agent.workspace)
        ],
        "freshness": freshness(agent, SyncRun.Scope.SEGMENTS),
    }


def campaigns(agent: Agent, arguments: dict) -> dict[str, Any]:
    rows = campaign_rows(workspace=agent.workspace, status=_text(arguments, "status"),
                         q=_text(arguments, "query"))[:200]
    answer = []
    for campaign in rows:
        email = campaign_email(campaign)
        answer.append({
            "campaign_id": campaign.cc_id, "name": campaign.name, "status": campaign.status,
            "campaign_activity_id": campaign.primary_activity_id,
            "subject": email.subject if email else "",
            "updated_at": _when(campaign.updated_upstream),
            "review": getattr(campaign, "approval_decision", None) or "",
        })
    return {"campaigns": answer, "freshness": freshness(agent, SyncRun.Scope.CAMPAIGNS)}


def campaign_report(agent: Agent, arguments: dict) -> dict[str, Any]:
    campaign_id = _text(arguments, "campaign_id", required=True)
    campaign = Campaign.objects.filter(workspace=agent.workspace, cc_id=campaign_id).first()
    if campaign is None:
        raise ToolError(NOT_FOUND, f"No campaign {campaign_id} in the mirror.")
    report = report_of(campaign=campaign)
    fresh = freshness(agent, SyncRun.Scope.REPORTS)
    if report is None:
        return {"campaign_id": campaign_id, "report": None, "freshness": fresh,
                "note": "No report has been read for this campaign yet."}
    cache = freshness_of([report])
    fresh.update(report_read_at=_when(cache.read_at), stats_as_of=_when(cache.as_of))
    answer = {
        "campaign_id": campaign_id, "name": campaign.name,
        "report": {
            "sends": report.sends, "opens": report.opens, "clicks": report.clicks,
            "bounces": report.bounces, "optouts": report.optouts,
            "delivered": report.delivered, "open_rate": report.open_rate,
            "click_rate": report.click_rate, "bounce_rate": report.bounce_rate,
            "optout_rate": report.optout_rate,
        },
        "freshness": fresh,
    }
    # Who opened or clicked is contact-level data: only with contacts read too, as
    # the report page shows it only to members who may read contacts, and only when
    # the allow-list names an endpoint that tells who opened or clicked.
    if agent.allows(Area.CONTACTS, R) and endpoints_allowed(agent, WHO_ENGAGED):
        rows, total = engaged_contacts(report=report, engaged=True, limit=MAX_CONTACTS)
        answer["engaged_contacts"] = {
            "total": total,
            "shown": [{"contact_id": row.contact_cc_id,
                       "email": row.contact.email if row.contact else "",
                       "what": row.what} for row in rows],
        }
    return answer


def _schema(properties: dict[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties or {}, "required": list(required),
            "additionalProperties": False}


_FROM_MIRROR = ("Live effect: none. API cost: 0 calls: answered from the mirror (its "
                "freshness says when the mirror last synced). Human approval: not needed.")
_STR = {"type": "string"}

READS: list[Read] = [
    Read("mirror_search_contacts",
         "Search contacts by the start of an email address or name, optionally within "
         f"a list or tag or by status. Access needed: read on contacts. {_FROM_MIRROR}",
         _schema({"query": _STR, "list_id": _STR, "tag_id": _STR,
                  "status": {"type": "string", "description": "subscribed, unsubscribed, "
                             "removed, all, or an email permission (explicit, implicit...)"},
                  "limit": {"type": "integer", "minimum": 1, "maximum": MAX_CONTACTS}}),
         ((Area.CONTACTS, R),), search_contacts, ("contacts.list",)),
    Read("mirror_get_contact",
         "One contact with its lists, tags and custom fields. Access needed: read on "
         f"contacts. {_FROM_MIRROR}",
         _schema({"contact_id": _STR}, ("contact_id",)), ((Area.CONTACTS, R),), get_contact,
         ("contacts.get",)),
    Read("mirror_lists", f"Every contact list. Access needed: read on lists. {_FROM_MIRROR}",
         _schema(), ((Area.LISTS, R),), lists, ("lists.list",)),
    Read("mirror_tags", f"Every tag. Access needed: read on tags. {_FROM_MIRROR}",
         _schema(), ((Area.TAGS, R),), tags, ("tags.list",)),
    Read("mirror_segments",
         f"Every segment, its rules in words. Access needed: read on segments. {_FROM_MIRROR}",
         _schema(), ((Area.SEGMENTS, R),), segments, ("segments.list",)),
    Read("mirror_campaigns",
         "Email campaigns (up to 200, newest first), with their review state. Access "
         f"needed: read on campaigns. {_FROM_MIRROR}",
         _schema({"query": _STR, "status": _STR}), ((Area.CAMPAIGNS, R),), campaigns,
         ("emails.list",)),
    Read("mirror_campaign_report",
         "One campaign's sends, opens, clicks, bounces, opt-outs and rates; who engaged "
         "only with read on contacts too. Access needed: read on reports. "
         f"{_FROM_MIRROR}",
         _schema({"campaign_id": _STR}, ("campaign_id",)), ((Area.REPORTS, R),),
         campaign_report, REPORT_STATS),
]
