"""The gate: the one entry point every other app uses to call Constant Contact.

    cc = gate_for(workspace=request.workspace, actor=Actor.member(request.membership))
    page = cc.call("contacts.get", contact_id=cc_id, params={"include": "list_memberships"})
    for page in cc.pages("contacts.list", params={"limit": 500}): ...

    cc = gate_for(workspace=ws, actor=Actor.job("contacts.sync", on_behalf_of=membership))

    with acting_as_agent(agent):   # the MCP server, serving one agent
        contacts_service.create(workspace=ws, membership=agent.owner, ...)

Calls name a catalog endpoint (catalog.py, where each one's quirks are noted);
path parameters go by name, a body as `json=`. Every call names its actor: a
member, or a job acting for one. Before anything is sent the gate re-reads, in
one query, the member's role and the workspace's connection — a queued job or a
long sync must stop at its next call once the member lost the grant or the
connection died — and checks the role allows the endpoint's area and access
(and capability, for schedules) and the connection holds the endpoint's OAuth
scope. A refused call raises GrantDenied and never leaves the machine. Every
call, allowed or refused, is one audit event `cc.<operation>` with the outcome,
status, error key, duration, attempts and the upstream request id — never
tokens, query values or bodies (they hold personal data).

An agent (apps/accounts/models.py Agent) is an actor too: its grants are its
role capped by its owner's, and its caps and the live-effect rule are checked
as well (agent_caps.py). Inside `acting_as_agent` every gate made, whichever
actor the code below names, acts as that agent: the services the MCP server
reuses were written for members, and this way none of their calls can escape
the agent's checks.

One gate serves all the calls of one request or job: it keeps one API client
(and the process keeps one pooled HTTP session), so a sync's pages reuse them.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
import logging
import re
import time
from typing import Any
from urllib.parse import quote

from redis.exceptions import RedisError

from apps.accounts.models import Agent, Membership, Workspace
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.constantcontact.agent_caps import budget_member_key, check_agent_call
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

logger = logging.getLogger(__name__)

Params = Mapping[str, Any] | None
Body = Any

# Path parameters are Constant Contact ids (UUIDs, integers, comma-separated lists
# of them). Anything else is a programming error, and refusing it keeps personal
# data out of the audit target and "../" out of the URL.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*(,[A-Za-z0-9][A-Za-z0-9_\-]*)*$")


@dataclass(frozen=True)
class Actor:
    membership: Membership  # for an agent, its owner's
    job_name: str = ""
    agent: Agent | None = None

    @classmethod
    def member(cls, membership: Membership) -> "Actor":
        return cls(membership=membership)

    @classmethod
    def job(cls, name: str, *, on_behalf_of: Membership) -> "Actor":
        return cls(membership=on_behalf_of, job_name=name)

    @classmethod
    def for_agent(cls, agent: Agent, *, job_name: str = "") -> "Actor":
        return cls(membership=agent.owner, job_name=job_name, agent=agent)

    def label_for(self, user) -> str:
        """How the audit log names this actor: the person, the agent acting for them
        (its owner beside it), and the job acting for either."""
        label = f"agent {self.agent.name} (owner {user.email})" if self.agent else user.email
        return f"{label} (job {self.job_name})" if self.job_name else label


_acting_agent: ContextVar[Agent | None] = ContextVar("acting_agent", default=None)


@contextmanager
def acting_as_agent(agent: Agent) -> Iterator[None]:
    """Every gate made inside acts as `agent` (see the module docstring)."""
    token = enter_agent_context(agent)
    try:
        yield
    finally:
        leave_agent_context(token)


def enter_agent_context(agent: Agent) -> Token:
    """For code that can't wrap a `with` (Celery's prerun/postrun, agent_jobs.py)."""
    return _acting_agent.set(agent)


def leave_agent_context(token: Token) -> None:
    _acting_agent.reset(token)


def current_agent() -> Agent | None:
    return _acting_agent.get()


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
        # Made on the first allowed call, then reused: the tokens follow the
        # connection row each call's check reads.
        self._tokens: ConnectionTokens | None = None
        self._api: ApiClient | None = None
        self._agent_now: Agent | None = None  # the agent's row as the last call read it

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
    def _current_membership(self) -> Membership | None:
        """The actor's membership as it stands now, with its role, its person and
        the workspace's connection: one query, on every call. For an agent, its
        owner's, read with the agent's own row in the same query."""
        if self.actor.agent is not None:
            agent = (
                Agent.objects.select_related(
                    "role", "owner__role", "owner__user", "owner__workspace__cc_connection"
                )
                .filter(pk=self.actor.agent.pk, workspace=self.workspace)
                .first()
            )
            self._agent_now = agent
            return agent.owner if agent is not None else None
        return (
            Membership.objects.select_related("role", "user", "workspace__cc_connection")
            .filter(pk=self.actor.membership.pk, workspace=self.workspace)
            .first()
        )

    def _checked(self, entry: Endpoint, membership: Membership | None, json: Body) -> Connection:
        """The workspace's connection, once `membership` (or the agent) and it allow `entry`."""
        agent = self._agent_now if self.actor.agent is not None else None
        if self.actor.agent is not None and agent is None:
            raise GrantDenied("This agent no longer exists.", reason="agent_revoked")
        if membership is None or not membership.user.is_active:
            raise GrantDenied("You are not a member of this workspace.", reason="not_a_member")
        # An agent's grants are its role capped by its owner's (Agent.allows).
        role = agent or membership.role
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
        for area, access in entry.also:
            if not role.allows(area, access):
                raise GrantDenied(
                    f"Your role does not allow {access.label.lower()} access to "
                    f"{area.label.lower()}, which this also needs.",
                    reason="role_denies",
                )
        if agent is not None:
            check_agent_call(agent, entry, json=json, daily_quota=self.budget.quota,
                             calls_today=self._agent_calls_today(agent))
        try:
            connection = membership.workspace.cc_connection
        except Connection.DoesNotExist:
            connection = None
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

    def _agent_calls_today(self, agent: Agent) -> int:
        try:
            return self.budget.member_calls_today(budget_member_key(agent))
        except RedisError:
            # The call itself will meet the limiter, which refuses while Redis is down.
            logger.warning("Could not read agent %s's calls today: Redis failed", agent.pk)
            return 0

    def _client(self, connection: Connection) -> ApiClient:
        if self._api is None:
            self._tokens = ConnectionTokens(connection)
            self._api = ApiClient(tokens=self._tokens, budget=self.budget,
                                  interactive=self.interactive)
        else:
            self._tokens.follow(connection)
        return self._api

    def _run(self, entry: Endpoint, *, path: str, href: str, params: Params, json: Body,
             files: Any, data: Any) -> Result:
        started = time.monotonic()
        membership = self._current_membership()
        user = membership.user if membership is not None else self.actor.membership.user
        try:
            connection = self._checked(entry, membership, json)
        except GrantDenied as exc:
            self._audit(entry, path, user, Outcome.DENIED, started, error=exc, attempts=0)
            self._count(entry, self.budget.note, "denied")
            raise
        except NotConnected as exc:
            self._audit(entry, path, user, Outcome.FAILURE, started, error=exc, attempts=0)
            raise
        api = self._client(connection)
        try:
            result = api.request(
                entry.method, path="" if href else path, href=href, params=params, json=json,
                files=files, data=data, idempotent=entry.idempotent, bulk=entry.is_bulk,
                produces=entry.produces,
            )
        except ConstantContactError as exc:
            attempts = exc.attempts
            self._audit(entry, path, user, Outcome.FAILURE, started, error=exc, attempts=attempts)
            self._record(entry, membership, attempts)
            raise
        # The audit row first: it lives in the database and must not wait on Redis.
        self._audit(entry, path, user, Outcome.SUCCESS, started, result=result,
                    attempts=result.attempts)
        self._record(entry, membership, result.attempts)
        return result

    def _record(self, entry: Endpoint, membership: Membership, attempts: int) -> None:
        # An agent's calls are its own line, not its owner's.
        member = (budget_member_key(self.actor.agent) if self.actor.agent is not None
                  else str(membership.user_id))
        self._count(entry, self.budget.record_call, area=entry.area.value,
                    member=member, job=self.actor.job_name, attempts=attempts)

    def _count(self, entry: Endpoint, counter, *args: Any, **kwargs: Any) -> None:
        """Update a usage counter in Redis. The call it counts has happened (or was
        refused) and is audited, so a Redis failure here is logged, never raised."""
        try:
            counter(*args, **kwargs)
        except RedisError:
            logger.warning("Usage counters not updated after %s: Redis failed", entry.name,
                           exc_info=True)

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
        if self.actor.agent is not None:
            details["agent_id"] = self.actor.agent.pk
            details["agent"] = self.actor.agent.name
        if isinstance(error, GrantDenied):
            details["reason"] = error.reason
        audit_event_record(
            action=f"cc.{entry.name}",
            actor=user,
            actor_label=self.actor.label_for(user),
            workspace=self.workspace,
            # Ids only (checked by fill_path); never the query, which may hold an email.
            target=f"{entry.method} {path}",
            outcome=outcome,
            details=details,
        )


def gate_for(*, workspace: Workspace, actor: Actor, interactive: bool | None = None,
             budget: ApiBudget | None = None) -> ConstantContact:
    """The gated Constant Contact API for `workspace`, acting as `actor`.

    `interactive` defaults to True for a member and False for a job; a job a
    member is waiting on (schedule, unschedule, test send) passes True so it may
    use the daily reserve. An agent's calls are never interactive.
    """
    agent = current_agent()
    if agent is not None and actor.agent is None:
        actor = replace(actor, membership=agent.owner, agent=agent)
    if actor.agent is not None:
        # The daily reserve is kept for people at their screens, never for agents.
        interactive = False
    elif interactive is None:
        interactive = not actor.job_name
    return ConstantContact(workspace=workspace, actor=actor, interactive=interactive,
                           budget=budget)
