"""The tool catalog: one tool per catalog endpoint an agent may use, plus the mirror reads.

Tools are generated from apps/constantcontact/catalog.py and filtered per agent,
so an agent lists only what its grants and caps let it call (`tools_for`).
What is left out, and why, is one rule each in `refusal_for`; a call to a tool
an agent does not list is refused with that rule's reason (calls.py). Each
description tells the agent four things: the access it needs, its live effect,
its API cost, and whether a human must approve it.

Arguments, for every endpoint tool: each path parameter (a required string),
`params` (the query string, an object), `body` (the JSON body, an object) on
methods that take one, and `dry_run` on every write.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apps.accounts.grants import Access, Area
from apps.accounts.models import Agent
from apps.constantcontact.agent_caps import TEST_SEND, is_live_effect
from apps.constantcontact.catalog import ENDPOINTS, Effect, Endpoint

# Endpoints no agent gets a tool for: a multipart file upload (the JSON import
# does the same with a body an agent can write) and the export's CSV download
# (a file for a person to open, not an answer for a model; the export activity
# itself is a tool).
SKIPPED = frozenset({"activities.contacts_file_import", "activities.export_download"})
SCHEDULE = "emails.schedule"
# The update that unsubscribes is a live effect (agent_caps.is_unsubscribe).
UNSUBSCRIBE_BY = "contacts.update"

APPROVAL_NOTE = (
    "A member must approve it: calling it files an agent request (answered with "
    "needs_approval, its id and link) and changes nothing until a member approves."
)


def grant_label(area: Area | str, access: Access) -> str:
    """"write on contacts": how a description and a refusal name a grant."""
    return f"{access.label.lower()} on {Area(area).label.lower()}"


def grants_needed(entry: Endpoint) -> str:
    parts = [grant_label(entry.area, entry.access)]
    parts += [grant_label(area, access) for area, access in entry.also]
    if entry.capability is not None:
        parts.append(f"the {entry.capability.value} capability")
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def tool_name(entry: Endpoint) -> str:
    # Dots are legal in MCP tool names, but several clients accept only [A-Za-z0-9_-].
    return entry.name.replace(".", "_")


def takes_body(entry: Endpoint) -> bool:
    return entry.method in ("POST", "PUT", "PATCH")


def is_write(entry: Endpoint) -> bool:
    return entry.method != "GET"


@dataclass(frozen=True)
class Refusal:
    reason: str  # a GrantDenied reason (apps/constantcontact/agent_caps.py)
    message: str
    grant_missing: str = ""


def refusal_for(agent: Agent, entry: Endpoint, *, requestable: frozenset[str]) -> Refusal | None:
    """Why `agent` gets no tool for `entry`, or None when it does."""
    if entry.name in SKIPPED:
        return Refusal("not_offered", f"{entry.name} is not offered to agents.")
    for area, access in ((entry.area, entry.access), *entry.also):
        if not agent.allows(area, access):
            return Refusal("role_denies",
                           f"This agent lacks {grant_label(area, access)}.",
                           grant_missing=grant_label(area, access))
    if entry.capability is not None and not agent.has_capability(entry.capability):
        needed = f"the {entry.capability.value} capability"
        return Refusal("capability_missing", f"This agent lacks {needed}.", grant_missing=needed)
    if agent.allowed_endpoints and entry.name not in agent.allowed_endpoints:
        return Refusal("endpoint_not_allowed", f"This agent may not call {entry.name}.")
    if agent.drafts_only and entry.name == SCHEDULE:
        return Refusal("drafts_only", "This agent may write campaign drafts only.")
    if is_live_effect(entry) and entry.name not in requestable:
        return Refusal("needs_approval",
                       f"{entry.name} is a live effect an agent cannot ask for.")
    if entry.name == TEST_SEND and not agent.test_recipients:
        return Refusal("recipient_not_allowed",
                       "This agent has no test recipients, so it may send no test email.")
    return None


def _cost(entry: Endpoint) -> str:
    if entry.method == "GET" and not entry.path_params:
        return ("1 API call per page (one page per call; pass the answer's next_params "
                "as params for the next)")
    return "1 API call"


def endpoint_description(entry: Endpoint, *, requestable: frozenset[str]) -> str:
    live = is_live_effect(entry) and entry.name in requestable
    effect = "none (reads only)" if entry.effect == Effect.NONE else entry.effect.value
    lines = [
        f"Constant Contact {entry.method} {entry.path}.",
        f"Access needed: {grants_needed(entry)}.",
        f"Live effect: {effect}.",
        ("API cost: 0 calls now (it files a request); dry_run says what running it would "
         "cost once approved." if live else f"API cost: {_cost(entry)}."),
        APPROVAL_NOTE if live else "Human approval: not needed.",
    ]
    if entry.name == TEST_SEND:
        lines.append("Only to this agent's allowed test recipients.")
    if entry.name == UNSUBSCRIBE_BY and UNSUBSCRIBE_BY in requestable:
        lines.append("Setting email_address.permission_to_send to \"unsubscribed\" is an "
                     "unsubscribe: that becomes a request a member must approve. Any other "
                     "permission is refused (it could re-subscribe someone who opted out): "
                     "leave permission_to_send out.")
    if is_write(entry):
        lines.append("dry_run=true says what it would do and cost, and calls nothing.")
    if entry.notes:
        lines.append(f"Notes: {entry.notes}")
    return " ".join(lines)


def endpoint_schema(entry: Endpoint) -> dict[str, Any]:
    properties: dict[str, Any] = {
        name: {"type": "string", "description": f"Constant Contact's {name}."}
        for name in entry.path_params
    }
    properties["params"] = {"type": "object", "description": "Query parameters."}
    if takes_body(entry):
        properties["body"] = {"type": "object", "description": "The JSON body, as the "
                              "Constant Contact V3 API documents it."}
    if is_write(entry):
        properties["dry_run"] = {"type": "boolean", "default": False,
                                 "description": "Say what would happen and what it would "
                                 "cost; call nothing."}
    return {"type": "object", "properties": properties, "required": list(entry.path_params),
            "additionalProperties": False}


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    entry: Endpoint | None = None  # an endpoint tool
    read: "Read | None" = None  # a mirror read

    @property
    def is_write(self) -> bool:
        return self.entry is not None and is_write(self.entry)


@dataclass(frozen=True)
class Read:
    """A curated read of the mirror: 0 API calls, no gate, its own grant check."""

    name: str
    description: str
    input_schema: dict[str, Any]
    needs: tuple[tuple[Area, Access], ...]
    answer: Callable[..., dict[str, Any]]  # (agent, arguments) -> the answer
    # The catalog endpoints it stands for: it answers what any one of them would,
    # so an agent's allow-list must name at least one (`endpoints_allowed`).
    endpoints: tuple[str, ...] = ()


def endpoints_allowed(agent: Agent, names: tuple[str, ...]) -> bool:
    """Whether the agent's allow-list (empty: everything) lets it read what one of
    `names` would answer."""
    return not agent.allowed_endpoints or any(n in agent.allowed_endpoints for n in names)


def read_refusal(agent: Agent, read: Read) -> Refusal | None:
    """Why `agent` gets no `read`, or None when it does: the same grants and allow-list
    as the endpoints it stands for, so the mirror is no way round either."""
    missing = [grant_label(area, access) for area, access in read.needs
               if not agent.allows(area, access)]
    if missing:
        return Refusal("role_denies", f"This agent lacks {', '.join(missing)}.",
                       grant_missing=", ".join(missing))
    if not endpoints_allowed(agent, read.endpoints):
        return Refusal("endpoint_not_allowed", f"This agent may not call "
                       f"{' or '.join(read.endpoints)}, which {read.name} stands for.")
    return None


def endpoint_tools(agent: Agent, *, requestable: frozenset[str]) -> list[Tool]:
    return [
        Tool(name=tool_name(entry),
             description=endpoint_description(entry, requestable=requestable),
             input_schema=endpoint_schema(entry), entry=entry)
        for entry in ENDPOINTS
        if refusal_for(agent, entry, requestable=requestable) is None
    ]


def read_tools(agent: Agent, reads: list[Read]) -> list[Tool]:
    return [
        Tool(name=read.name, description=read.description, input_schema=read.input_schema,
             read=read)
        for read in reads
        if read_refusal(agent, read) is None
    ]


def agent_is_usable(agent: Agent) -> bool:
    return not agent.is_revoked and not agent.is_expired() and agent.owner.user.is_active


def tools_for(agent: Agent, *, requestable: frozenset[str], reads: list[Read]) -> list[Tool]:
    """Every tool `agent` may call now, mirror reads first; none once it can't act."""
    if not agent_is_usable(agent):
        return []
    return read_tools(agent, reads) + endpoint_tools(agent, requestable=requestable)


def endpoint_tool_named(name: str) -> Endpoint | None:
    """The catalog entry behind a tool name, whoever asks (for refusing it clearly)."""
    for entry in ENDPOINTS:
        if tool_name(entry) == name:
            return entry
    return None

