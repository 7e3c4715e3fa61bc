"""Pre-send checks: what must hold before a campaign may be scheduled.

    report = presend_checks(email=email, cc=cc, now=timezone.now())
    if not report.ok: ... report.failures -> each with a message for people

- the sender is verified: from and reply-to are CONFIRMED account addresses
  (contract §3.8: GET /account/emails?confirm_status=CONFIRMED);
- the audience is not empty: lists (or a segment) are set, and the mirrored
  lists hold contacts who can receive email; its size is shown;
- the tracking image is in the HTML (custom-code emails, contract §3.7);
- a physical address is on the account or in the email's footer (anti-spam law,
  and Constant Contact refuses to send without one);
- the planned send time is still in the future.

Constant Contact checks most of these again when the schedule is posted; doing
it here first turns a 400 into a clear list before anything is queued. The two
account reads go through the gate as the member (they need the account read
grant, which every preset has).
"""

from dataclasses import dataclass, field
from datetime import datetime

from apps.campaigns.html_checks import tracking_image_problem
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import ConstantContact
from apps.mirror.models import EmailActivity
from apps.mirror.selectors.audience import (
    contacts_in_lists,
    lists_by_cc_id,
    lists_have_members,
    lists_member_total,
    sendable_contacts_in_lists,
)
from apps.mirror.selectors.segments import segment_estimate, segments_by_cc_id

# Custom-code emails (format_type 5) must carry the tracking image themselves;
# Constant Contact's own editor (4) inserts it (contract §3.7).
CUSTOM_CODE_FORMAT = 5


@dataclass
class Check:
    key: str
    label: str
    ok: bool
    message: str


@dataclass
class Audience:
    """Who the email goes to: list (or segment) names and, when known, how many."""

    names: list[str] = field(default_factory=list)
    count: int | None = None
    # The lists' members in the mirror, sendable or not (counted_from "contacts"):
    # the difference from `count` is said on screen, so it adds up with the list pages.
    members: int | None = None
    # How the count was made: "contacts" (mirrored subscribed contacts), "lists"
    # (the lists' member counts, which include unsubscribed ones), "segment" (the
    # mirror's estimate of the segment's subscribed contacts) or "" (unknown).
    counted_from: str = ""

    @property
    def is_set(self) -> bool:
        return bool(self.names)

    @property
    def label(self) -> str:
        return ", ".join(self.names)


@dataclass
class PresendReport:
    checks: list[Check]
    audience: Audience

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def email_audience(*, email: EmailActivity) -> Audience:
    """The audience of `email` from the mirror: names and the number of contacts."""
    workspace_id = email.campaign.workspace_id
    list_ids = [str(value) for value in email.contact_list_ids or []]
    segment_ids = [str(value) for value in email.segment_ids or []]
    lists = lists_by_cc_id(workspace=workspace_id, cc_ids=list_ids)
    audience = Audience(names=[lists[i].name if i in lists else f"List {i}" for i in list_ids])
    if segment_ids:
        # One segment (never with lists): counted from the mirror floor, the contacts
        # its rules select who can be emailed. Constant Contact evaluates it again
        # when it sends; unknown when the mirror can't evaluate a rule.
        segments = segments_by_cc_id(workspace=workspace_id, cc_ids=segment_ids)
        audience.names += [f"Segment “{segments[i].name}”" if i in segments
                           else f"Segment {i}" for i in segment_ids]
        if len(segments) == len(segment_ids):
            counts = [segment_estimate(segment=row, sendable_only=True) for row in
                      segments.values()]
            if all(estimate.known for estimate in counts):
                audience.count = sum(estimate.count for estimate in counts)
                audience.counted_from = "segment"
        return audience
    if not list_ids:
        return audience
    if lists_have_members(workspace=workspace_id, cc_ids=list_ids):
        audience.count = sendable_contacts_in_lists(workspace=workspace_id, cc_ids=list_ids)
        audience.members = contacts_in_lists(workspace=workspace_id, cc_ids=list_ids)
        audience.counted_from = "contacts"
    elif len(lists) == len(list_ids) and all(
        row.membership_count is not None for row in lists.values()
    ):
        # Lists synced without their members: their counts (an upper bound, since a
        # contact on two lists counts twice and unsubscribed ones count too).
        audience.count = lists_member_total(lists=list(lists.values()))
        audience.counted_from = "lists"
    return audience


def _confirmed_addresses(cc: ConstantContact) -> set[str]:
    result = cc.call("account.emails_list", params={"confirm_status": "CONFIRMED"})
    rows = result.data if isinstance(result.data, list) else []
    return {
        str(row.get("email_address", "")).lower()
        for row in rows
        if isinstance(row, dict) and row.get("confirm_status", "CONFIRMED") == "CONFIRMED"
    }


def _account_has_address(cc: ConstantContact) -> bool:
    result = cc.call("account.summary_get", params={"extra_fields": "physical_address"})
    address = (result.data or {}).get("physical_address") if isinstance(result.data, dict) else None
    return bool(isinstance(address, dict) and address.get("address_line1"))


def presend_checks(*, email: EmailActivity, cc: ConstantContact, now: datetime,
                   send_at: datetime | None) -> PresendReport:
    """Every check, each passed or failed with a message; calls the account reads."""
    checks: list[Check] = []

    # Verified sender.
    try:
        confirmed = _confirmed_addresses(cc)
    except ConstantContactError as exc:
        checks.append(Check("sender", "Verified sender", False,
                            "Could not read the account's verified addresses: "
                            f"{upstream_error_message(exc)}"))
    else:
        unverified = [
            address for address in (email.from_email, email.reply_to_email)
            if address and address.lower() not in confirmed
        ]
        if not email.from_email:
            checks.append(Check("sender", "Verified sender", False,
                                "The email has no from address. Edit the campaign to choose one."))
        elif unverified:
            checks.append(Check(
                "sender", "Verified sender", False,
                f"{', '.join(sorted(set(unverified)))} is not a verified sender address of the "
                "Constant Contact account. Verify it in Constant Contact, or edit the campaign "
                "to use a verified address (which voids the approval).",
            ))
        else:
            checks.append(Check("sender", "Verified sender", True,
                                f"Sent from {email.from_email}, a verified address."))

    # Audience.
    audience = email_audience(email=email)
    if not audience.is_set:
        checks.append(Check("audience", "Audience", False,
                            "No lists are chosen: the email would go to nobody. Edit the "
                            "campaign to choose its lists (which voids the approval)."))
    elif audience.count == 0:
        checks.append(Check("audience", "Audience", False,
                            f"{audience.label} hold{'s' if len(audience.names) == 1 else ''} no "
                            "contacts who can receive email (as of the last sync)."))
    elif audience.count is None:
        checks.append(Check("audience", "Audience", True,
                            f"{audience.label}; its size is not known here until contacts "
                            "are synced."))
    else:
        left_out = (audience.members or 0) - audience.count
        checks.append(Check("audience", "Audience", True,
                            f"{audience.label}: {audience.count:,} contact"
                            f"{'' if audience.count == 1 else 's'} who can receive email."
                            + (f" The other {left_out:,} of the {audience.members:,} members "
                               "are unsubscribed or not yet confirmed, and are left out."
                               if left_out > 0 else "")))

    # Tracking image.
    problem = (tracking_image_problem(email.html_content)
               if email.format_type == CUSTOM_CODE_FORMAT else None)
    if problem:
        checks.append(Check("tracking", "Tracking image", False,
                            f"{problem} Edit the content to fix it (this voids the approval)."))
    else:
        checks.append(Check("tracking", "Tracking image", True, "The tracking image is in place."))

    # Physical address.
    if email.physical_address_in_footer:
        checks.append(Check("address", "Physical address", True,
                            "The footer carries the organisation's physical address."))
    else:
        try:
            has_address = _account_has_address(cc)
        except ConstantContactError as exc:
            checks.append(Check("address", "Physical address", False,
                                "Could not read the account's physical address: "
                                f"{upstream_error_message(exc)}"))
        else:
            checks.append(Check(
                "address", "Physical address", has_address,
                "The account's physical address goes in the footer." if has_address else
                "The Constant Contact account has no physical address, which the law and "
                "Constant Contact require in every campaign. An admin can add it on the "
                "Account page.",
            ))

    # Send time.
    if send_at is not None and send_at <= now:
        checks.append(Check("send_time", "Send time", False,
                            "The planned send time has passed. Edit the campaign to choose a "
                            "new time (or send now); the edit voids the approval, so it needs "
                            "another review."))
    else:
        checks.append(Check("send_time", "Send time", True,
                            "Sends as soon as it is scheduled." if send_at is None else
                            "The send time is in the future."))
    return PresendReport(checks=checks, audience=audience)


