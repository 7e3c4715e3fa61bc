"""The audit log in words: actions a person can read, and targets by name.

Events keep their stable machine names (`cc.emails.schedule`, `campaign 42`,
`POST /emails/activities/…/schedules`): the CSV export and the hash chain use
those. The screen reads them through here.

Targets are named by the floors above, which own the named things (a campaign's
name lives in the mirror): they register a namer at start-up with
`target_namer`, so this floor never imports them. A target nobody can name
shows as it was recorded.
"""

from collections.abc import Callable, Iterable

# Product actions, as recorded by the services that do them.
ACTION_WORDS = {
    "login.succeeded": "Signed in",
    "login.failed": "Failed sign-in",
    "login.locked_out": "Sign-in locked out",
    "login.mfa_failed": "Failed two-factor code",
    "logout": "Signed out",
    "password.changed": "Changed password",
    "password.set": "Set password",
    "password.reset": "Reset password",
    "mfa.totp_activated": "Turned on the authenticator app",
    "mfa.totp_deactivated": "Turned off the authenticator app",
    "mfa.recovery_codes_generated": "Created recovery codes",
    "mfa.recovery_codes_regenerated": "Replaced recovery codes",
    "mfa.recovery_codes_removed": "Removed recovery codes",
    "mfa.recovery_code_used": "Used a recovery code",
    "mfa.reauthentication_failed": "Failed to confirm identity",
    "account.created": "Created account",
    "account.updated": "Updated account",
    "profile.changed": "Changed profile",
    "workspace.created": "Created workspace",
    "workspace.settings_changed": "Changed workspace settings",
    "invitation.created": "Invited member",
    "invitation.accepted": "Accepted invitation",
    "invitation.revoked": "Withdrew invitation",
    "membership.created": "Added member",
    "membership.removed": "Removed member",
    "membership.role_changed": "Changed member's role",
    "role.created": "Created role",
    "role.deleted": "Deleted role",
    "agent.created": "Created agent",
    "agent.updated": "Changed agent's role or caps",
    "agent.key_rotated": "Rotated agent's key",
    "agent.revoked": "Revoked agent",
    "audit.exported": "Exported the audit log",
    "campaign.created": "Created campaign",
    "campaign.updated": "Edited campaign",
    "campaign.renamed": "Renamed campaign",
    "campaign.deleted": "Deleted campaign",
    "campaign.review_requested": "Asked for review",
    "campaign.approved": "Approved campaign",
    "campaign.changes_requested": "Requested changes to campaign",
    "campaign.rejected": "Requested changes to campaign",  # the name before Dec 2026
    "campaign.approval_voided": "Approval voided",
    "campaign.schedule_requested": "Asked to schedule campaign",
    "campaign.unschedule_requested": "Asked to unschedule campaign",
    "campaign.test_send_requested": "Asked for a test send",
    "campaign.alert_sent": "Sent an alert about campaign",
    "contacts.contact_created": "Created contact",
    "contacts.contact_updated": "Edited contact",
    "contacts.contact_deleted": "Deleted contact",
    "contacts.contact_unsubscribed": "Unsubscribed contact",
    "contacts.contact_signup_upserted": "Added contact through the sign-up form",
    "contacts.contact_list_added": "Added contact to list",
    "contacts.contact_list_removed": "Removed contact from list",
    "contacts.contact_tag_added": "Tagged contact",
    "contacts.contact_tag_removed": "Untagged contact",
    "bulk.job_started": "Started bulk job",
    "agent.request_created": "Agent asked for approval",
    "agent.request_approved": "Approved agent request",
    "agent.request_declined": "Declined agent request",
    "agent.request_refused": "Agent request refused on approval",
    "agent.request_failed": "Approved agent request failed",
    "mcp.refused": "Agent's key refused",
    "bulk.job_cancel_requested": "Asked to cancel bulk job",
    "bulk.report_downloaded": "Downloaded bulk job report",
    "bulk.file_downloaded": "Downloaded bulk job file",
    "cc.connection.connect": "Connected Constant Contact",
    "cc.connection.disconnect": "Disconnected Constant Contact",
    "cc.connection.needs_reconnect": "Constant Contact needs reconnecting",
    "cc.connection.account_changed": "Constant Contact account changed",
}

# Calls to Constant Contact (`cc.<catalog name>`): the ones a generic reading gets wrong.
CALL_WORDS = {
    "emails.schedule": "Scheduled campaign",
    "emails.unschedule": "Unscheduled campaign",
    "emails.schedule_get": "Read campaign schedule",
    "emails.test_send": "Sent test email",
    "emails.preview": "Previewed campaign",
    "emails.activity_get": "Read campaign email",
    "emails.activity_update": "Saved campaign email",
    "contacts.counts": "Counted contacts",
    "contacts.sign_up_form": "Added contact through the sign-up form",
    "account.summary_get": "Read account details",
    "account.summary_update": "Updated account details",
    "account.physical_address_create": "Added account address",
    "account.physical_address_update": "Updated account address",
    "account.emails_list": "Listed sender addresses",
    "activities.export_download": "Downloaded contact export",
    "activities.get": "Checked bulk activity",
    "activities.list": "Listed bulk activities",
    "reports.campaign_summaries": "Read campaign reports",
    "reports.campaign_stats": "Read campaign statistics",
    "reports.activity_stats": "Read campaign statistics",
    "reports.links": "Read link report",
    "reports.contact_activity_details": "Read contact activity",
}
_NOUNS = {  # catalog area -> (one, many)
    "contacts": ("contact", "contacts"),
    "lists": ("list", "lists"),
    "tags": ("tag", "tags"),
    "custom_fields": ("custom field", "custom fields"),
    "segments": ("segment", "segments"),
    "emails": ("campaign", "campaigns"),
    "activities": ("bulk activity", "bulk activities"),
    "reports": ("report", "reports"),
    "account": ("account", "account"),
}
_VERBS = {"get": "Read", "create": "Created", "update": "Updated", "delete": "Deleted",
          "rename": "Renamed"}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def action_words(action: str) -> str:
    """`cc.emails.schedule` -> "Scheduled campaign"; unknown actions spelt out."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    if action.startswith("cc."):
        name = action[3:]
        if name in CALL_WORDS:
            return CALL_WORDS[name]
        area, _, verb = name.partition(".")
        one, many = _NOUNS.get(area, (area.replace("_", " "), area.replace("_", " ")))
        if verb == "list":
            return f"Listed {many}"
        if verb in _VERBS:
            return f"{_VERBS[verb]} {one}"
        if area == "activities":
            return _sentence(f"started bulk {verb.replace('_', ' ')}")
        return _sentence(f"{verb.replace('_', ' ')} {one}")
    if action.startswith("mcp."):
        return _tool_words(action.removeprefix("mcp."))
    if action.endswith(".sync_started"):
        return f"Started {action.split('.')[0]} sync"
    if action.startswith("bulk.job_"):
        return f"Bulk job {action.removeprefix('bulk.job_').replace('_', ' ')}"
    return _sentence(action.replace(".", " ").replace("_", " "))


def _tool_words(tool: str) -> str:
    """An MCP tool call: `mirror_search_contacts` -> "Agent tool: search contacts (from
    ccadmin's copy)"; `contacts_create` -> "Agent tool: created contact"."""
    if tool.startswith("mirror_"):
        return f"Agent tool: {tool.removeprefix('mirror_').replace('_', ' ')} (from ccadmin's copy)"
    for area in sorted(_NOUNS, key=len, reverse=True):
        if tool.startswith(f"{area}_"):
            said = action_words(f"cc.{area}.{tool.removeprefix(f'{area}_')}")
            return f"Agent tool: {said[:1].lower()}{said[1:]}"
    return f"Agent tool: {tool.replace('_', ' ')}"


# --- Who --------------------------------------------------------------------------------

AGENT_LABEL_START = "agent "  # the gate and the MCP server label an agent "agent <name> (owner <email>)"
# Events about an agent (made, changed, its requests decided) are done by a person,
# even though they name the agent in their details.
ABOUT_AGENTS = ("agent.",)


def actor_words(*, action: str, actor_label: str, details: dict) -> str:
    """Who did it, as the Who column says. An event done by an agent names the
    agent with its owner beside it ("agent Newsletter bot (owner ana@example.com)"),
    also when it was recorded under the owner with the agent only in its details."""
    if action.startswith(ABOUT_AGENTS):
        # No person behind it: `manage.py createagent`.
        return actor_label if actor_label not in ("", "anonymous") else "command line (manage.py)"
    agent = details.get("agent") if isinstance(details, dict) else None
    if agent and actor_label and not actor_label.startswith(AGENT_LABEL_START):
        return f"{AGENT_LABEL_START}{agent} (owner {actor_label})"
    return actor_label


# --- Targets by name ------------------------------------------------------------------

TargetNamer = Callable[[int, list[str]], dict[str, str]]
_namers: list[TargetNamer] = []


def target_namer(namer: TargetNamer) -> TargetNamer:
    """Register `namer(workspace_id, targets) -> {target: name}`; see the module docstring."""
    if namer not in _namers:
        _namers.append(namer)
    return namer


def target_names(*, workspace_id: int, targets: Iterable[str]) -> dict[str, str]:
    """Names for the targets some namer knows, e.g. {"campaign 7f…": 'campaign “Spring sale”'}."""
    wanted = sorted({t for t in targets if t})
    names: dict[str, str] = {}
    for namer in _namers:
        left = [t for t in wanted if t not in names]
        if not left:
            break
        names.update(namer(workspace_id, left))
    return names
