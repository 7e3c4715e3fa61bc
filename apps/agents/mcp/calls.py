"""Running one tool call for one agent: the checks, the call, the answer, the audit.

Synchronous Django code; server.py runs it off the event loop. Every call:

1. reads the agent again (a key revoked a moment ago stops the next call, and
   so does a key rotated since the session opened: `SessionKey`),
2. finds the tool among those the agent may use (tools.py) and checks the
   arguments against its schema,
3. answers it: a mirror read from the mirror; a live effect (a send, a delete,
   a removal, an unsubscribe) never upstream but as an agent request a member
   approves (apps/agents/services/requests.py); any other write or read
   through the gate, inside `acting_as_agent`, so even an area service written
   for members is checked as the agent, with its caps and its quota share,
4. is audited as `mcp.<tool>` with the agent as actor and its owner beside it —
   the outcome and error code, never an argument's value (they hold personal
   data); a call that reached Constant Contact is audited by the gate as well,
5. notes the agent's last use.
"""

from dataclasses import dataclass
import logging
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from apps.accounts.agents import note_use
from apps.accounts.models import Agent
from apps.agents.mcp.errors import (
    INTERNAL_ERROR,
    INVALID_ARGUMENTS,
    NEEDS_APPROVAL,
    NOT_PERMITTED,
    OVER_CAP,
    UNKNOWN_TOOL,
    ToolError,
    error_for,
    invalid_arguments,
    not_permitted,
)
from apps.agents.mcp.keys import SessionKey, audit_refusal
from apps.agents.mcp.reads import READS
from apps.agents.mcp.tools import (
    Tool,
    agent_is_usable,
    endpoint_tool_named,
    grants_needed,
    read_refusal,
    refusal_for,
    tool_name,
    tools_for,
)
from apps.agents.services.requests import (
    REQUESTABLE,
    preview_agent_request,
    propose_agent_request,
)
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.constantcontact.agent_caps import (
    budget_member_key,
    check_agent_call,
    claims_consent,
    daily_call_cap,
    is_live_effect,
)
from apps.constantcontact.catalog import ENDPOINTS, Endpoint
from apps.constantcontact.errors import ConstantContactError, GrantDenied
from apps.constantcontact.gate import Actor, acting_as_agent, fill_path, gate_for
from apps.constantcontact.ratelimit import api_budget
from apps.contacts.services.lists import list_create
from apps.contacts.services.tags import tag_create, tag_rename
from apps.mirror.models import Tag
from apps.mirror.services.audience import (
    contact_mirror_save,
    custom_field_mirror_save,
    list_mirror_save,
)
from apps.mirror.services.segments import segment_mirror_save

logger = logging.getLogger(__name__)

# The refusals an agent meets as "denied" in the audit log; anything else is a failure.
_DENIED = {NOT_PERMITTED, OVER_CAP, NEEDS_APPROVAL}
# Every tool any agent could have: an audit action names one of these, never a
# name a client made up.
KNOWN_TOOLS = frozenset([read.name for read in READS] + [tool_name(e) for e in ENDPOINTS])


@dataclass(frozen=True)
class ToolAnswer:
    payload: dict[str, Any]
    is_error: bool = False


def agent_now(agent_id: int) -> Agent | None:
    """The agent's row as it stands now, with what every check reads."""
    return (
        Agent.objects.select_related("workspace", "role", "owner__role", "owner__user")
        .filter(pk=agent_id).first()
    )


def agent_tools(agent: Agent) -> list[Tool]:
    return tools_for(agent, requestable=REQUESTABLE, reads=READS)


KEY_ROTATED = "key_rotated"


def _key_rotated() -> ToolError:
    return not_permitted("The key this session opened with was replaced; reconnect with "
                         "the agent's new key.", reason=KEY_ROTATED)


def session_tools(*, agent_id: int, session: SessionKey | None) -> list[Tool]:
    """What tools/list answers: the agent's tools, none once its key was rotated
    since `session` opened (that refusal is audited)."""
    agent = agent_now(agent_id)
    if agent is None:
        return []
    if session is not None and not session.still_current(agent):
        audit_refusal(agent=agent, reason=KEY_ROTATED, transport=session.transport,
                      key_prefix=session.key_prefix)
        return []
    return agent_tools(agent)


def tool_call(*, agent_id: int, name: str, arguments: dict[str, Any] | None,
              session: SessionKey | None = None) -> ToolAnswer:
    """`session`: the key the transport authenticated (None only for callers that
    checked the key themselves this very request)."""
    started = time.monotonic()
    agent = agent_now(agent_id)
    if agent is None:
        # Deleted between the key check and this call: nobody left to audit as.
        return ToolAnswer(ToolError(NOT_PERMITTED, "This agent no longer exists.",
                                    {"reason": "agent_revoked"}).as_dict(), is_error=True)
    facts: dict[str, Any] = {}
    key_current = session is None or session.still_current(agent)
    if session is not None:
        facts["key_prefix"] = session.key_prefix
    try:
        if not key_current:
            raise _key_rotated()
        payload = _answer(agent, name, arguments, facts)
        answer, outcome, code = ToolAnswer(payload), Outcome.SUCCESS, ""
    except ToolError as error:
        answer = ToolAnswer(error.as_dict(), is_error=True)
        outcome = Outcome.DENIED if error.code in _DENIED else Outcome.FAILURE
        code = error.code
        facts.update({k: v for k, v in error.details.items()
                      if k in ("reason", "grant_missing", "request_id", "status", "error_key")})
    except Exception:
        # A bug of ours: the agent gets a plain error, never a traceback; the log has it.
        logger.exception("MCP tool %s failed for agent %s", name[:80], agent.pk)
        answer = ToolAnswer(ToolError(INTERNAL_ERROR, "Something went wrong in ccadmin; the "
                                      "error is logged. Nothing more was done.").as_dict(),
                            is_error=True)
        outcome, code = Outcome.FAILURE, INTERNAL_ERROR
    _audit(agent, name, outcome=outcome, error=code, facts=facts, started=started)
    if key_current and agent_is_usable(agent):  # an old key's session is not a use
        note_use(agent)
    return answer


def _audit(agent: Agent, name: str, *, outcome: str, error: str, facts: dict,
           started: float) -> None:
    details = {
        "agent_id": agent.pk, "agent": agent.name, "tool": name[:80],
        "duration_ms": round((time.monotonic() - started) * 1000), **facts,
    }
    if error:
        details["error"] = error
    audit_event_record(
        action=f"mcp.{name}" if name in KNOWN_TOOLS else "mcp.unknown_tool",
        actor=agent.owner.user,
        actor_label=f"agent {agent.name} (owner {agent.owner.user.email})",
        workspace=agent.workspace, target=name[:80], outcome=outcome, details=details,
    )


# --- finding the tool and checking its arguments ---------------------------------------------

def _refused(agent: Agent) -> ToolError | None:
    if agent.is_revoked:
        return not_permitted("This agent's key was revoked.", reason="agent_revoked")
    if agent.is_expired():
        return not_permitted("This agent's access has expired.", reason="agent_expired")
    if not agent.owner.user.is_active:
        return not_permitted("This agent's owner can no longer sign in.", reason="not_a_member")
    return None


def _tool(agent: Agent, name: str) -> Tool:
    if (refusal := _refused(agent)) is not None:
        raise refusal
    for tool in agent_tools(agent):
        if tool.name == name:
            return tool
    # Not one of this agent's tools: say why, as precisely as we can.
    entry = endpoint_tool_named(name)
    if entry is not None:
        refusal = refusal_for(agent, entry, requestable=REQUESTABLE)
        if refusal is not None:
            raise not_permitted(refusal.message, reason=refusal.reason,
                                grant_missing=refusal.grant_missing)
    for read in READS:
        if read.name == name and (refusal := read_refusal(agent, read)) is not None:
            raise not_permitted(refusal.message, reason=refusal.reason,
                                grant_missing=refusal.grant_missing)
    raise ToolError(UNKNOWN_TOOL, f"There is no tool named {name[:80]!r}.")


def _arguments(tool: Tool, arguments: Any) -> dict[str, Any]:
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise invalid_arguments("Arguments must be an object.")
    properties = tool.input_schema["properties"]
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        raise invalid_arguments(f"Unknown arguments {unknown}; this tool takes "
                                f"{sorted(properties)}.")
    missing = [name for name in tool.input_schema["required"] if name not in arguments]
    if missing:
        raise invalid_arguments(f"Missing required arguments {missing}.")
    for name, value in arguments.items():
        expected = properties[name].get("type")
        if expected == "object" and not isinstance(value, dict):
            raise invalid_arguments(f"{name} must be an object.")
        if expected == "boolean" and not isinstance(value, bool):
            raise invalid_arguments(f"{name} must be true or false.")
        if expected == "string" and not isinstance(value, str):
            raise invalid_arguments(f"{name} must be a string.")
    return arguments


# --- answering -----------------------------------------------------------------------------

def _answer(agent: Agent, name: str, arguments: Any, facts: dict) -> dict[str, Any]:
    tool = _tool(agent, name)
    arguments = _arguments(tool, arguments)
    if tool.read is not None:
        facts["api_calls"] = 0
        return tool.read.answer(agent, arguments)
    entry = tool.entry
    path_params = {key: arguments[key] for key in entry.path_params}
    params = arguments.get("params") or {}
    body = arguments.get("body")
    dry_run = bool(arguments.get("dry_run"))
    facts["dry_run"] = dry_run
    try:
        path = fill_path(entry, path_params)
    except (TypeError, ValueError) as exc:
        raise invalid_arguments(str(exc)) from exc
    # A contact update claiming consent (any permission but "unsubscribed") is a live
    # effect no request exists for: the gate's check refuses it, before any call.
    if is_live_effect(entry, body) and not claims_consent(entry, body):
        return _ask_a_member(agent, entry, path_params, params, body, dry_run=dry_run)
    if dry_run:
        return _dry_run(agent, entry, path, body)
    return _call(agent, entry, path_params, params, body, facts)


def _ask_a_member(agent: Agent, entry: Endpoint, path_params: dict, params: dict, body: Any,
                  *, dry_run: bool) -> dict[str, Any]:
    """A live effect: a preview (dry run) or a pending agent request, never the call."""
    kwargs = {"agent": agent, "endpoint_name": entry.name, "path_params": path_params,
              "params": params, "body": body}
    try:
        if dry_run:
            preview = preview_agent_request(**kwargs)
            return {"dry_run": True, "needs_approval": True, "summary": preview.summary,
                    "lines": preview.lines, "api_calls": preview.api_calls,
                    "grant_needed": preview.grant_needed, "warnings": preview.warnings}
        request = propose_agent_request(**kwargs)
    except GrantDenied as exc:
        raise error_for(exc, grant_needed=grants_needed(entry), now=timezone.now()) from exc
    except ValueError as exc:
        raise ToolError(INVALID_ARGUMENTS, str(exc)) from exc
    url = settings.CCADMIN_PUBLIC_URL.rstrip("/") + request.get_absolute_url()
    raise ToolError(NEEDS_APPROVAL, (
        "An agent never does this itself. It is now a pending agent request; a member "
        "holding the grant must approve it."
    ), {"request_id": request.pk, "url": url, "summary": request.summary})


def _dry_run(agent: Agent, entry: Endpoint, path: str, body: Any) -> dict[str, Any]:
    """What the gate would decide and what the call would cost, calling nothing."""
    budget = api_budget()
    try:
        calls_today = budget.member_calls_today(budget_member_key(agent))
    except RedisError:
        calls_today = 0  # as the gate does: the call itself would meet the limiter
    try:
        check_agent_call(agent, entry, json=body, calls_today=calls_today,
                         daily_quota=budget.quota)
    except GrantDenied as exc:
        raise error_for(exc, grant_needed=grants_needed(entry), now=timezone.now()) from exc
    cap = daily_call_cap(agent, budget.quota)
    return {
        "dry_run": True, "would_call": f"{entry.method} {path}",
        "live_effect": entry.effect.value, "api_calls": 1,
        "grant_needed": grants_needed(entry), "checks": "passed",
        "agent_calls_left_today": max(0, cap - calls_today - 1),
    }


def _call(agent: Agent, entry: Endpoint, path_params: dict, params: dict, body: Any,
          facts: dict) -> dict[str, Any]:
    try:
        with acting_as_agent(agent):
            service = _SERVICES.get(entry.name)
            answer = service(agent, path_params, body) if service else None
            if answer is None:
                answer = _through_the_gate(agent, entry, path_params, params, body)
    except ConstantContactError as exc:
        facts["api_calls"] = exc.attempts
        raise error_for(exc, grant_needed=grants_needed(entry), now=timezone.now()) from exc
    except ValueError as exc:  # an argument the service or the gate could not take
        raise invalid_arguments(str(exc)) from exc
    facts["api_calls"] = answer.get("api_calls", 1)
    return answer


def _through_the_gate(agent: Agent, entry: Endpoint, path_params: dict, params: dict,
                      body: Any) -> dict[str, Any]:
    cc = gate_for(workspace=agent.workspace, actor=Actor.for_agent(agent))
    result = cc.call(entry.name, params=params or None, json=body, **path_params)
    _mirror_follows(agent, entry, result.data)
    answer = {"status": result.status, "data": result.data, "api_calls": result.attempts}
    if result.next_href:
        # The cursor of the next page, as params for the same tool.
        answer["next_params"] = {k: v[0] for k, v in parse_qs(urlsplit(result.next_href)
                                                               .query).items()}
    return answer


# --- keeping the mirror right ---------------------------------------------------------------
# Where an area service exists for an endpoint and takes what the body holds, it
# runs (the mirror and its counts follow, as for a member). Otherwise the answer
# is saved with the mirror's own writers, as the area services do after their
# call; campaigns follow at the next campaigns sync.

def _body_text(body: Any, key: str) -> str:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise invalid_arguments(f"body.{key} is required.")
    return value


def _tags_create(agent: Agent, path_params: dict, body: Any) -> dict[str, Any]:
    row = tag_create(workspace=agent.workspace, membership=agent.owner,
                     name=_body_text(body, "name"))
    return {"status": 201, "data": row.raw, "api_calls": 1}


def _tags_update(agent: Agent, path_params: dict, body: Any) -> dict[str, Any] | None:
    tag = Tag.objects.filter(workspace=agent.workspace, cc_id=path_params["tag_id"]).first()
    if tag is None or tag.delete_pending:
        return None  # not mirrored (yet): the gate answers, 404 or not
    row = tag_rename(tag=tag, membership=agent.owner, name=_body_text(body, "name"))
    return {"status": 200, "data": row.raw, "api_calls": 1}


def _lists_create(agent: Agent, path_params: dict, body: Any) -> dict[str, Any]:
    favorite = body.get("favorite", False) if isinstance(body, dict) else False
    description = body.get("description", "") if isinstance(body, dict) else ""
    if not isinstance(favorite, bool) or not isinstance(description, str):
        raise invalid_arguments(
            "body.favorite must be true or false, body.description a string.")
    row = list_create(workspace=agent.workspace, membership=agent.owner,
                      name=_body_text(body, "name"), description=description, favorite=favorite)
    return {"status": 201, "data": row.raw, "api_calls": 1}


_SERVICES = {"tags.create": _tags_create, "tags.update": _tags_update,
             "lists.create": _lists_create}

_MIRRORS = (
    # Not the sign-up form: its answer is only {contact_id, action}.
    ("contact_id", ("contacts.create", "contacts.update"), contact_mirror_save),
    ("list_id", ("lists.update",), list_mirror_save),
    ("custom_field_id", ("custom_fields.create", "custom_fields.update"),
     custom_field_mirror_save),
    ("segment_id", ("segments.create", "segments.update"), segment_mirror_save),
)


def _mirror_follows(agent: Agent, entry: Endpoint, data: Any) -> None:
    for key, names, save in _MIRRORS:
        if entry.name in names and isinstance(data, dict) and data.get(key):
            with transaction.atomic():
                save(workspace=agent.workspace, data=data)
