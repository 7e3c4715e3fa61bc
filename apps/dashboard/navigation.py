"""The dashboard's navigation: one entry per area, shown only to roles that may use it."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from apps.accounts.grants import Access, Area
from apps.agents.selectors import agent_requests_pending_count, may_see_requests


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    area: Area | None
    access: Access = Access.READ
    section: str = "work"
    # The second key of its "g" keyboard shortcut (static/js/app.js), "" for none.
    key: str = ""
    # For an entry that belongs to no one area: who sees it (given the role),
    # instead of area and access.
    shown_to: Callable | None = None
    # A count shown beside it (given the workspace and the role), as "N waiting".
    badge: Callable | None = None


NAV_ITEMS = (
    NavItem("Overview", "dashboard:home", None, key="o"),
    NavItem("Contacts", "contacts:contact_list", Area.CONTACTS, key="p"),
    NavItem("Lists", "contacts:list_index", Area.LISTS, key="l"),
    NavItem("Tags", "contacts:tag_index", Area.TAGS, key="t"),
    NavItem("Custom fields", "contacts:custom_field_index", Area.CUSTOM_FIELDS, key="f"),
    NavItem("Segments", "segments:segment_index", Area.SEGMENTS, key="s"),
    NavItem("Bulk jobs", "bulk:job_list", Area.BULK, key="b"),
    NavItem("Campaigns", "campaigns:campaign_list", Area.CAMPAIGNS, key="c"),
    # Members who could decide some request: write on an area, or the send capability.
    NavItem("Agent requests", "agents:request_list", None, shown_to=may_see_requests,
            badge=lambda workspace, role: agent_requests_pending_count(workspace=workspace,
                                                                       role=role)),
    NavItem("Reports", "reporting:overview", Area.REPORTS, key="r"),
    NavItem("Account", "campaigns:account", Area.ACCOUNT),
    # Readable by every role with Account read (health, budget); only admins get buttons.
    NavItem("Constant Contact", "constantcontact:connection", Area.ACCOUNT),
    NavItem("API budget", "constantcontact:budget", Area.ACCOUNT),
    NavItem("API reference", "constantcontact:reference", None),
    NavItem("Team", "accounts:members", Area.ACCOUNT, Access.WRITE, section="admin"),
    NavItem("Roles", "accounts:roles", Area.ACCOUNT, Access.WRITE, section="admin"),
    NavItem("Agents", "agents:list", Area.ACCOUNT, Access.WRITE, section="admin"),
    NavItem("Audit log", "audit:events", Area.ACCOUNT, Access.WRITE, section="admin", key="a"),
    NavItem("Settings", "accounts:settings", Area.ACCOUNT, Access.WRITE, section="admin"),
)


def nav_for(*, request) -> list[dict]:
    role, workspace = request.role, request.workspace
    if role is None or workspace is None:
        return []
    items = []
    for item in NAV_ITEMS:
        if item.area is not None and not role.allows(item.area, item.access):
            continue
        if item.shown_to is not None and not item.shown_to(role):
            continue
        url = reverse(item.url_name, kwargs={"workspace_slug": workspace.slug})
        items.append({"label": item.label, "url": url, "active": False, "section": item.section,
                      "key": item.key, "badge": item.badge(workspace, role) if item.badge else 0})
    # The active entry is the longest URL that prefixes this page (Team is /team/,
    # Roles is /team/roles/: only Roles lights up there). The overview's URL is the
    # workspace's root, which prefixes every page: it lights up only on itself.
    home = reverse("dashboard:home", kwargs={"workspace_slug": workspace.slug})
    matches = [i for i in items
               if request.path.startswith(i["url"]) and (i["url"] != home or request.path == home)]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items
