"""What the gate checks for an agent beyond its grants: its state and its caps.

An agent's grants are its role capped by its owner's (Agent.allows). On top of
them come the caps an admin set under Team → Agents, and one rule no cap can
lift: a live effect (a send, a delete, a removal, an unsubscribe) is never
executed by an agent. The agent asks; a member approves in the Agent requests
inbox and the call then runs as that member. Test emails are the exception,
and only to the agent's allow-listed recipients. Each refusal is a GrantDenied
with its own reason, which the MCP server turns into a structured error.
"""

from collections.abc import Iterable
from typing import Any

from apps.accounts.models import Agent
from apps.constantcontact.catalog import Effect, Endpoint
from apps.constantcontact.errors import GrantDenied

TEST_SEND = "emails.test_send"
FILE_IMPORT = "activities.contacts_file_import"
# Live effects the catalog's Effect does not say: removals that undo an audience
# at once (adding is an ordinary write), the sign-up form that re-opts-in
# unsubscribed contacts, and unscheduling, which cancels an approved send.
LIVE_CALLS = frozenset({
    "activities.remove_list_memberships", "activities.contacts_taggings_remove",
    "contacts.sign_up_form", "emails.unschedule",
})

# Refusal reasons an agent can meet (besides role_denies, capability_missing, scope_missing).
REVOKED, EXPIRED = "agent_revoked", "agent_expired"
ENDPOINT_NOT_ALLOWED, NEEDS_APPROVAL, OVER_CAP = "endpoint_not_allowed", "needs_approval", "over_cap"
RECIPIENT_NOT_ALLOWED = "recipient_not_allowed"


def _permission_set(entry: Endpoint, json: Any) -> str | None:
    """The email permission a contact update sets, lower-cased; None if it sets none."""
    if entry.name != "contacts.update" or not isinstance(json, dict):
        return None
    email = json.get("email_address")
    if not isinstance(email, dict) or "permission_to_send" not in email:
        return None
    return str(email["permission_to_send"] or "").strip().lower()


def is_unsubscribe(entry: Endpoint, json: Any) -> bool:
    return _permission_set(entry, json) == "unsubscribed"


def claims_consent(entry: Endpoint, json: Any) -> bool:
    """A contact update that sets any other permission may re-subscribe someone
    who opted out: a claim of their consent, which only a person may make."""
    return _permission_set(entry, json) not in (None, "unsubscribed")


def is_live_effect(entry: Endpoint, json: Any = None) -> bool:
    """Whether a call changes what real people receive, claims their consent, or
    loses data for good."""
    if entry.name == TEST_SEND:
        return False  # capped by the recipient allow-list instead
    return (
        entry.effect in (Effect.DELETES, Effect.SENDS_EMAIL)
        or entry.name in LIVE_CALLS
        or is_unsubscribe(entry, json)
        or claims_consent(entry, json)
    )


def daily_call_cap(agent: Agent, daily_quota: int) -> int:
    return daily_quota * agent.daily_quota_percent // 100


def budget_member_key(agent: Agent) -> str:
    """The agent's own line in the budget's per-member counters."""
    return f"agent:{agent.pk}"


# Keys that pick contacts by something other than their ids.
_WIDE_SELECTORS = ("list_ids", "tag_ids", "segment_id", "all_active_contacts")


def _contacts_touched(json: Any) -> int | None:
    """How many contacts one bulk activity changes, or None when the call does not
    say: contacts picked by list, tag, segment or all at once, or no body."""
    if not isinstance(json, dict):
        return None
    if "source" in json:
        source = json["source"]
        if (not isinstance(source, dict) or set(source) != {"contact_ids"}
                or not isinstance(source["contact_ids"], list)):
            return None
        return len(source["contact_ids"])
    if isinstance(json.get("import_data"), list):
        return len(json["import_data"])
    if isinstance(json.get("contact_ids"), list) and not any(k in json for k in _WIDE_SELECTORS):
        return len(json["contact_ids"])
    return None


def _lowered(addresses: Iterable[Any]) -> set[str]:
    return {str(a).strip().lower() for a in addresses}


def check_agent_call(agent: Agent, entry: Endpoint, *, json: Any, calls_today: int,
                     daily_quota: int) -> None:
    """Raise GrantDenied unless `agent` may send this call now. `calls_today` is
    what the agent has already used of the shared quota today."""
    if agent.is_revoked:
        raise GrantDenied("This agent's key was revoked.", reason=REVOKED)
    if agent.is_expired():
        raise GrantDenied("This agent's access has expired.", reason=EXPIRED)
    if agent.allowed_endpoints and entry.name not in agent.allowed_endpoints:
        raise GrantDenied(f"This agent may not call {entry.name}.", reason=ENDPOINT_NOT_ALLOWED)
    if claims_consent(entry, json):
        raise GrantDenied(
            "An agent may not set a contact's email permission (it could re-subscribe "
            "someone who opted out); leave permission_to_send out.",
            reason=NEEDS_APPROVAL,
        )
    if is_live_effect(entry, json):
        raise GrantDenied(
            "An agent never runs a live effect itself; it must be approved by a member "
            "as an agent request.",
            reason=NEEDS_APPROVAL,
        )
    if entry.name == TEST_SEND:
        recipients = _lowered((json or {}).get("email_addresses") or [])
        outside = recipients - _lowered(agent.test_recipients)
        if outside or not recipients:
            raise GrantDenied(
                "This agent may send test emails only to its allowed recipients.",
                reason=RECIPIENT_NOT_ALLOWED,
            )
    if entry.is_bulk and entry.effect != Effect.NONE:
        # A file's rows are not in the call's JSON: agents import rows.
        touched = None if entry.name == FILE_IMPORT else _contacts_touched(json)
        if touched is None or touched > agent.max_contacts_per_job:
            raise GrantDenied(
                f"This agent may change at most {agent.max_contacts_per_job:,} contacts in one "
                "job, named by id; a whole list, segment or account is beyond its cap.",
                reason=OVER_CAP,
            )
    cap = daily_call_cap(agent, daily_quota)
    if calls_today >= cap:
        raise GrantDenied(
            f"This agent has used its share of today's API quota ({cap:,} calls); "
            "it resets at 00:00 UTC.",
            reason=OVER_CAP,
        )
