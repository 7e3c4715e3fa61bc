"""Whether a key may open the MCP server at all, and the audit of a refusal.

Both transports ask this first: stdio when the process starts, HTTP on every
request. Each tool call checks the agent again (calls.py), so a key revoked
during a session stops at its next call. A session also remembers which key
opened it (`SessionKey`): a long-lived stdio session whose key was rotated must
stop too, even though the agent itself is still active (rotating clears a
revocation, so "not revoked" is no proof the session's key still counts).
"""

from dataclasses import dataclass
import hmac
from typing import Any

from apps.accounts.agents import prefix_of
from apps.accounts.models import Agent
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record


def refusal_for_key(key: str, agent: Agent | None) -> tuple[str, str] | None:
    """(reason, message) when this key may not use the server, None when it may.
    `agent` is agent_for_key(key)."""
    if not key:
        return "missing_key", "Send the agent's key (Authorization: Bearer KEY, or --key)."
    if agent is None:
        return "unknown_key", "This key belongs to no agent."
    if agent.is_revoked:
        return "agent_revoked", "This agent's key was revoked."
    if agent.is_expired():
        return "agent_expired", "This agent's access has expired."
    if not agent.owner.user.is_active:
        return "not_a_member", "This agent's owner can no longer sign in."
    return None


@dataclass(frozen=True)
class SessionKey:
    """The key a session opened with: its hash (to compare) and public prefix (to audit).
    Never the key itself."""

    key_hash: str
    key_prefix: str
    transport: str

    @classmethod
    def opened_by(cls, agent: Agent, *, transport: str) -> "SessionKey":
        """For `agent` as agent_for_key just found it: its hash is the key's."""
        return cls(key_hash=agent.key_hash, key_prefix=agent.key_prefix, transport=transport)

    def still_current(self, agent: Agent) -> bool:
        """False once the agent's key was rotated after this session opened."""
        return hmac.compare_digest(agent.key_hash, self.key_hash)


def audit_refusal(*, key: str = "", agent: Agent | None, reason: str, transport: str,
                  key_prefix: str = "") -> None:
    """`mcp.refused`, as the agent when the key names one; only the key's public prefix
    (`key_prefix` when the caller no longer holds the key)."""
    details: dict[str, Any] = {"reason": reason, "transport": transport,
                               "key_prefix": key_prefix or prefix_of(key)}
    if agent is not None:
        details.update(agent_id=agent.pk, agent=agent.name)
    audit_event_record(
        action="mcp.refused",
        actor=agent.owner.user if agent is not None else None,
        actor_label=(f"agent {agent.name} (owner {agent.owner.user.email})"
                     if agent is not None else "anonymous"),
        workspace=agent.workspace if agent is not None else None,
        outcome=Outcome.DENIED, details=details,
    )
