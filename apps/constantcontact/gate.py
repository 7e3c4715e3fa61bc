"""The gate: the one entry point every other app uses to call Constant Contact.

    cc = gate_for(workspace=request.workspace, actor=Actor.member(request.membership))
    page = cc.contacts_list(params={"limit": 500})
    for page in cc.pages("contacts.list", params={"limit": 500}): ...

    cc = gate_for(workspace=ws, actor=Actor.job("contacts.sync", on_behalf_of=membership))

Every call names its actor: a member, or a job acting for one. Before anything
is sent the gate re-reads the member's role (a queued job must not run for
someone who lost the grant meanwhile) and checks it allows the endpoint's area
and access (and capability, for schedules), then checks the connection holds
the endpoint's OAuth scope. A refused call raises GrantDenied and never leaves
the machine. Every call, allowed or refused, is one audit event `cc.<operation>`
with the outcome, status, error key, duration, attempts and the upstream
request id — never tokens, query values or bodies (they hold personal data).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
import re
import time
from typing import Any
from urllib.parse import quote

from apps.accounts.models import Membership, Workspace
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.constantcontact.catalog import Endpoint, endpoint
from apps.constantcontact.client import ApiClient, Result
from apps.constantcontact.errors import (
    ConstantContactError,
    GrantDenied,
    NeedsReconnect,
    NotConnected,
)
from apps.constantcontact.models import Connection
from apps.constantcontact.ratelimit import ApiBudget, api_budget
from apps.constantcontact.tokens import ConnectionTokens

Params = Mapping[str, Any] | None
Body = Any

# Path parameters are Constant Contact ids (UUIDs, integers, comma-separated lists
# of them). Anything else is a programming error, and refusing it keeps personal
# data out of the audit target and "../" out of the URL.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*(,[A-Za-z0-9][A-Za-z0-9_\-]*)*$")


@dataclass(frozen=True)
class Actor:
    membership: Membership
    job_name: str = ""

    @classmethod
    def member(cls, membership: Membership) -> "Actor":
        return cls(membership=membership)

    @classmethod
    def job(cls, name: str, *, on_behalf_of: Membership) -> "Actor":
        return cls(membership=on_behalf_of, job_name=name)

    @property
    def label(self) -> str:
        email = self.membership.user.email
        return f"{email} (job {self.job_name})" if self.job_name else email


def fill_path(entry: Endpoint, path_params: Mapping[str, Any]) -> str:
    missing = set(entry.path_params) - set(path_params)
    extra = set(path_params) - set(entry.path_params)
    if missing or extra:
        raise TypeError(
            f"{entry.name} takes path parameters {entry.path_params}, got {sorted(path_params)}"
        )
    values = {}
    for name in entry.path_params:
        value = str(path_params[name])
        if not _ID.match(value):
            raise ValueError(f"{name} for {entry.name} is not a Constant Contact id")
        values[name] = quote(value, safe=",")
    return entry.path.format(**values)


class ConstantContact:
    """Calls to one workspace's Constant Contact account on behalf of one actor."""

    def __init__(self, *, workspace: Workspace, actor: Actor, interactive: bool,
                 budget: ApiBudget | None = None):
        self.workspace = workspace
        self.actor = actor
        self.interactive = interactive
        self._budget = budget

    @property
    def budget(self) -> ApiBudget:
        if self._budget is None:
            self._budget = api_budget()
        return self._budget

    # --- the generic entry points -------------------------------------------------
    def call(
        self, name: str, *, params: Params = None, json: Body = None, files: Any = None,
        data: Any = None, **path_params: Any,
    ) -> Result:
        """Call the catalog endpoint `name`; path parameters by name (contact_id=...)."""
        entry = endpoint(name)
        return self._run(entry, path=fill_path(entry, path_params), href="", params=params,
                         json=json, files=files, data=data)

    def pages(self, name: str, *, params: Params = None, **path_params: Any) -> Iterator[Result]:
        """Each page of a paged GET, following `_links.next.href` exactly as given
        (opaque cursors that differ per resource, contract §2.6). Every page is
        its own gated, audited call."""
        entry = endpoint(name)
        if entry.method != "GET":
            raise TypeError(f"{name} is not a paged GET")
        path = fill_path(entry, path_params)
        result = self._run(entry, path=path, href="", params=params, json=None, files=None,
                           data=None)
        yield result
        while href := result.next_href:
            result = self._run(entry, path=path, href=href, params=None, json=None, files=None,
                               data=None)
            yield result

    # --- checks, the call, the audit ----------------------------------------------
    def _checked_membership(self, entry: Endpoint) -> Membership:
        membership = (
            Membership.objects.select_related("role", "user")
            .filter(pk=self.actor.membership.pk, workspace=self.workspace)
            .first()
        )
        if membership is None or not membership.user.is_active:
            raise GrantDenied("You are not a member of this workspace.", reason="not_a_member")
        role = membership.role
        if not role.allows(entry.area, entry.access):
            raise GrantDenied(
                f"Your role does not allow {entry.access.label.lower()} access to "
                f"{entry.area.label.lower()}.",
                reason="role_denies",
            )
        if entry.capability is not None and not role.has_capability(entry.capability):
            raise GrantDenied(
                f"Your role does not have the {entry.capability.value} capability.",
                reason="capability_missing",
            )
        return membership

    def _checked_connection(self, entry: Endpoint) -> Connection:
        connection = Connection.objects.filter(workspace=self.workspace).first()
        if connection is None or connection.status == Connection.Status.NOT_CONNECTED:
            raise NotConnected(error_key="not_connected")
        if connection.status == Connection.Status.NEEDS_RECONNECT:
            raise NeedsReconnect(error_key="needs_reconnect")
        if entry.scope not in connection.scopes:
            raise GrantDenied(
                f"The Constant Contact connection was not granted the {entry.scope} scope; "
                "an admin must reconnect it.",
                reason="scope_missing",
            )
        return connection

    def _run(self, entry: Endpoint, *, path: str, href: str, params: Params, json: Body,
             files: Any, data: Any) -> Result:
        started = time.monotonic()
        user = self.actor.membership.user
        try:
            membership = self._checked_membership(entry)
            user = membership.user
            connection = self._checked_connection(entry)
        except GrantDenied as exc:
            self.budget.note("denied")
            self._audit(entry, path, user, Outcome.DENIED, started, error=exc, attempts=0)
            raise
        except NotConnected as exc:
            self._audit(entry, path, user, Outcome.FAILURE, started, error=exc, attempts=0)
            raise
        api = ApiClient(tokens=ConnectionTokens(connection), budget=self.budget,
                        interactive=self.interactive)
        try:
            result = api.request(
                entry.method, path="" if href else path, href=href, params=params, json=json,
                files=files, data=data, idempotent=entry.idempotent, bulk=entry.is_bulk,
                produces=entry.produces,
            )
        except ConstantContactError as exc:
            attempts = exc.attempts
            self._record(entry, membership, attempts)
            self._audit(entry, path, user, Outcome.FAILURE, started, error=exc, attempts=attempts)
            raise
        self._record(entry, membership, result.attempts)
        self._audit(entry, path, user, Outcome.SUCCESS, started, result=result,
                    attempts=result.attempts)
        return result

    def _record(self, entry: Endpoint, membership: Membership, attempts: int) -> None:
        self.budget.record_call(
            area=entry.area.value, member=str(membership.user_id), job=self.actor.job_name,
            attempts=attempts,
        )

    def _audit(self, entry: Endpoint, path: str, user, outcome: str, started: float, *,
               attempts: int, result: Result | None = None,
               error: ConstantContactError | None = None) -> None:
        details = {
            "endpoint": str(entry),
            "status": result.status if result else error.status if error else None,
            "error_key": error.error_key if error else "",
            "duration_ms": round((time.monotonic() - started) * 1000),
            "request_id": result.request_id if result else error.request_id if error else "",
            "attempts": attempts,
            "job": self.actor.job_name,
        }
        if isinstance(error, GrantDenied):
            details["reason"] = error.reason
        audit_event_record(
            action=f"cc.{entry.name}",
            actor=user,
            actor_label=self.actor.label,
            workspace=self.workspace,
            # Ids only (checked by fill_path); never the query, which may hold an email.
            target=f"{entry.method} {path}",
            outcome=outcome,
            details=details,
        )

    # --- one method per endpoint (see catalog.py for each one's notes) -------------
    # Contacts
    def contacts_list(self, *, params: Params = None) -> Result:
        return self.call("contacts.list", params=params)

    def contacts_get(self, *, contact_id: str, params: Params = None) -> Result:
        return self.call("contacts.get", contact_id=contact_id, params=params)

    def contacts_counts(self, *, params: Params = None) -> Result:
        return self.call("contacts.counts", params=params)

    def contacts_create(self, *, body: Body) -> Result:
        return self.call("contacts.create", json=body)

    def contacts_update(self, *, contact_id: str, body: Body) -> Result:
        # A full replace: omitted top-level fields become null (contract §3.1, §5.4).
        # GET with every include, merge, then PUT the whole contact.
        return self.call("contacts.update", contact_id=contact_id, json=body)

    def contacts_delete(self, *, contact_id: str) -> Result:
        return self.call("contacts.delete", contact_id=contact_id)

    def contacts_sign_up_form(self, *, body: Body) -> Result:
        # Re-opts-in unsubscribed contacts (contract §3.1): only with explicit consent.
        return self.call("contacts.sign_up_form", json=body)

    # Lists
    def lists_list(self, *, params: Params = None) -> Result:
        return self.call("lists.list", params=params)

    def lists_get(self, *, list_id: str, params: Params = None) -> Result:
        return self.call("lists.get", list_id=list_id, params=params)

    def lists_create(self, *, body: Body) -> Result:
        return self.call("lists.create", json=body)

    def lists_update(self, *, list_id: str, body: Body) -> Result:
        return self.call("lists.update", list_id=list_id, json=body)

    def lists_delete(self, *, list_id: str) -> Result:
        # 202 + an activity: the delete finishes later (contract §3.2).
        return self.call("lists.delete", list_id=list_id)

    # Tags
    def tags_list(self, *, params: Params = None) -> Result:
        return self.call("tags.list", params=params)

    def tags_get(self, *, tag_id: str, params: Params = None) -> Result:
        return self.call("tags.get", tag_id=tag_id, params=params)

    def tags_create(self, *, body: Body) -> Result:
        return self.call("tags.create", json=body)

    def tags_update(self, *, tag_id: str, body: Body) -> Result:
        return self.call("tags.update", tag_id=tag_id, json=body)

    def tags_delete(self, *, tag_id: str) -> Result:
        # 202 + an activity (contract §3.3).
        return self.call("tags.delete", tag_id=tag_id)

    # Custom fields
    def custom_fields_list(self, *, params: Params = None) -> Result:
        return self.call("custom_fields.list", params=params)

    def custom_fields_get(self, *, custom_field_id: str) -> Result:
        return self.call("custom_fields.get", custom_field_id=custom_field_id)

    def custom_fields_create(self, *, body: Body) -> Result:
        return self.call("custom_fields.create", json=body)

    def custom_fields_update(self, *, custom_field_id: str, body: Body) -> Result:
        # Omitted properties are overwritten with null (contract §3.4).
        return self.call("custom_fields.update", custom_field_id=custom_field_id, json=body)

    def custom_fields_delete(self, *, custom_field_id: str) -> Result:
        return self.call("custom_fields.delete", custom_field_id=custom_field_id)

    # Segments
    def segments_list(self, *, params: Params = None) -> Result:
        return self.call("segments.list", params=params)

    def segments_get(self, *, segment_id: int) -> Result:
        return self.call("segments.get", segment_id=segment_id)

    def segments_create(self, *, body: Body) -> Result:
        return self.call("segments.create", json=body)

    def segments_update(self, *, segment_id: int, body: Body) -> Result:
        return self.call("segments.update", segment_id=segment_id, json=body)

    def segments_rename(self, *, segment_id: int, name: str) -> Result:
        return self.call("segments.rename", segment_id=segment_id, json={"name": name})

    def segments_delete(self, *, segment_id: int) -> Result:
        return self.call("segments.delete", segment_id=segment_id)

    # Bulk activities
    def activities_contacts_json_import(self, *, body: Body) -> Result:
        # < 4 MB or the rest is silently dropped (contract §3.6): chunk by bytes.
        return self.call("activities.contacts_json_import", json=body)

    def activities_contacts_file_import(self, *, file: Any, form: Mapping[str, str]) -> Result:
        # multipart: requests writes the Content-Type and boundary (contract §2.1).
        return self.call("activities.contacts_file_import", files={"file": file}, data=form)

    def activities_add_list_memberships(self, *, body: Body) -> Result:
        return self.call("activities.add_list_memberships", json=body)

    def activities_remove_list_memberships(self, *, body: Body) -> Result:
        return self.call("activities.remove_list_memberships", json=body)

    def activities_contact_delete(self, *, body: Body) -> Result:
        return self.call("activities.contact_delete", json=body)

    def activities_contact_exports(self, *, body: Body) -> Result:
        return self.call("activities.contact_exports", json=body)

    def activities_export_download(self, *, file_export_id: str) -> Result:
        return self.call("activities.export_download", file_export_id=file_export_id)

    def activities_get(self, *, activity_id: str) -> Result:
        return self.call("activities.get", activity_id=activity_id)

    def activities_list(self, *, params: Params = None) -> Result:
        return self.call("activities.list", params=params)

    # Email campaigns
    def emails_list(self, *, params: Params = None) -> Result:
        return self.call("emails.list", params=params)

    def emails_get(self, *, campaign_id: str) -> Result:
        return self.call("emails.get", campaign_id=campaign_id)

    def emails_create(self, *, body: Body) -> Result:
        # Answers 200, not 201 (contract §2.3).
        return self.call("emails.create", json=body)

    def emails_rename(self, *, campaign_id: str, name: str) -> Result:
        return self.call("emails.rename", campaign_id=campaign_id, json={"name": name})

    def emails_delete(self, *, campaign_id: str) -> Result:
        return self.call("emails.delete", campaign_id=campaign_id)

    def emails_activity_get(self, *, campaign_activity_id: str, params: Params = None) -> Result:
        return self.call("emails.activity_get", campaign_activity_id=campaign_activity_id,
                         params=params)

    def emails_activity_update(self, *, campaign_activity_id: str, body: Body) -> Result:
        # Send the whole activity (contract §3.7).
        return self.call("emails.activity_update", campaign_activity_id=campaign_activity_id,
                         json=body)

    def emails_preview(self, *, campaign_activity_id: str) -> Result:
        return self.call("emails.preview", campaign_activity_id=campaign_activity_id)

    def emails_test_send(self, *, campaign_activity_id: str, body: Body) -> Result:
        return self.call("emails.test_send", campaign_activity_id=campaign_activity_id,
                         json=body)

    def emails_schedule_get(self, *, campaign_activity_id: str) -> Result:
        return self.call("emails.schedule_get", campaign_activity_id=campaign_activity_id)

    def emails_schedule(self, *, campaign_activity_id: str, scheduled_date: str) -> Result:
        # "0" sends now; a DONE activity re-sends to new contacts (contract §3.7):
        # never retried on an unknown outcome (POST), the caller GETs the schedule.
        return self.call("emails.schedule", campaign_activity_id=campaign_activity_id,
                         json={"scheduled_date": scheduled_date})

    def emails_unschedule(self, *, campaign_activity_id: str) -> Result:
        return self.call("emails.unschedule", campaign_activity_id=campaign_activity_id)

    # Account
    def account_summary_get(self, *, params: Params = None) -> Result:
        return self.call("account.summary_get", params=params)

    def account_summary_update(self, *, body: Body) -> Result:
        # A partial update, unlike most PUTs (contract §3.8).
        return self.call("account.summary_update", json=body)

    def account_physical_address_create(self, *, body: Body) -> Result:
        # 409 when the account already has one (contract §3.8): PUT instead.
        return self.call("account.physical_address_create", json=body)

    def account_physical_address_update(self, *, body: Body) -> Result:
        # Replaces the whole address: send every field to keep (spec, putPhysicalAddress).
        return self.call("account.physical_address_update", json=body)

    def account_emails_list(self, *, params: Params = None) -> Result:
        return self.call("account.emails_list", params=params)

    # Reports
    def reports_campaign_summaries(self, *, params: Params = None) -> Result:
        return self.call("reports.campaign_summaries", params=params)

    def reports_tracking_sends(self, *, campaign_activity_id: str, params: Params = None) -> Result:
        return self.call("reports.tracking_sends", campaign_activity_id=campaign_activity_id,
                         params=params)

    def reports_tracking_opens(self, *, campaign_activity_id: str, params: Params = None) -> Result:
        return self.call("reports.tracking_opens", campaign_activity_id=campaign_activity_id,
                         params=params)

    def reports_tracking_clicks(self, *, campaign_activity_id: str,
                                params: Params = None) -> Result:
        return self.call("reports.tracking_clicks", campaign_activity_id=campaign_activity_id,
                         params=params)

    def reports_tracking_bounces(self, *, campaign_activity_id: str,
                                 params: Params = None) -> Result:
        return self.call("reports.tracking_bounces", campaign_activity_id=campaign_activity_id,
                         params=params)

    def reports_tracking_optouts(self, *, campaign_activity_id: str,
                                 params: Params = None) -> Result:
        return self.call("reports.tracking_optouts", campaign_activity_id=campaign_activity_id,
                         params=params)

    def reports_links(self, *, campaign_activity_id: str, params: Params = None) -> Result:
        return self.call("reports.links", campaign_activity_id=campaign_activity_id,
                         params=params)

    def reports_campaign_stats(self, *, campaign_ids: list[str]) -> Result:
        # One unknown id makes the whole call 404 (contract §3.9).
        return self.call("reports.campaign_stats", campaign_ids=",".join(campaign_ids))

    def reports_activity_stats(self, *, campaign_activity_ids: list[str]) -> Result:
        return self.call("reports.activity_stats",
                         campaign_activity_ids=",".join(campaign_activity_ids))


def gate_for(*, workspace: Workspace, actor: Actor, interactive: bool | None = None,
             budget: ApiBudget | None = None) -> ConstantContact:
    """The gated Constant Contact API for `workspace`, acting as `actor`.

    `interactive` defaults to True for a member and False for a job; a job a
    member is waiting on (schedule, unschedule, test send) passes True so it may
    use the daily reserve.
    """
    if interactive is None:
        interactive = not actor.job_name
    return ConstantContact(workspace=workspace, actor=actor, interactive=interactive,
                           budget=budget)
