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
    "contacts.contact_signup_upserted": "Added contact through the sign-up form",
    "contacts.contact_list_added": "Added contact to list",
    "contacts.contact_list_removed": "Removed contact from list",
    "contacts.contact_tag_added": "Tagged contact",
    "contacts.contact_tag_removed": "Untagged contact",
    "bulk.job_started": "Started bulk job",
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
    if action.endswith(".sync_started"):
        return f"Started {action.split('.')[0]} sync"
    if action.startswith("bulk.job_"):
        return f"Bulk job {action.removeprefix('bulk.job_').replace('_', ' ')}"
    return _sentence(action.replace(".", " ").replace("_", " "))


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
