"""Agents: creating them, their keys (shown once, kept only as a hash), revoking them.

A key reads `ccak_<8-char prefix>_<secret>`. The prefix is stored in clear so a
key finds its agent in one indexed lookup and the Team screen can tell keys
apart; the whole key is compared by SHA-256 in constant time.
"""

from dataclasses import dataclass
from datetime import timedelta
import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.events import announce
from apps.accounts.models import Agent, Membership, Role, User

KEY_PREFIX = "ccak_"
# Writing last_used_at on every call would make each MCP call a write; a minute is
# fine grained enough for "last used".
LAST_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewKey:
    raw: str  # shown once, never stored
    prefix: str
    digest: str


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_key() -> NewKey:
    prefix = KEY_PREFIX + secrets.token_hex(4)
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(raw=raw, prefix=prefix, digest=_digest(raw))


def prefix_of(raw: str) -> str:
    return raw[: len(KEY_PREFIX) + 8] if raw.startswith(KEY_PREFIX) else ""


def agent_for_key(raw: str) -> Agent | None:
    """The agent this key belongs to, whatever its state (the gate refuses revoked
    and expired agents with their own reasons), or None for an unknown key."""
    prefix = prefix_of(raw or "")
    if not prefix:
        return None
    agent = (
        Agent.objects.select_related("workspace", "role", "owner__role", "owner__user")
        .filter(key_prefix=prefix)
        .first()
    )
    if agent is None or not hmac.compare_digest(agent.key_hash, _digest(raw)):
        return None
    return agent


def note_use(agent: Agent) -> None:
    now = timezone.now()
    if agent.last_used_at is None or now - agent.last_used_at >= LAST_USE_RESOLUTION:
        Agent.objects.filter(pk=agent.pk).update(last_used_at=now)
        agent.last_used_at = now


def _described(agent: Agent) -> dict:
    return {"agent": agent.name, "agent_id": agent.pk, "owner": agent.owner.user.email,
            "role": agent.role.name, "key_prefix": agent.key_prefix}


# The cap fields an admin may change after creation (agent_update).
CAP_FIELDS = ("daily_quota_percent", "allowed_endpoints", "drafts_only", "test_recipients",
              "max_contacts_per_job", "expires_at")


def agent_check(*, workspace, name: str, owner: Membership, role: Role,
                agent: Agent | None = None) -> None:
    """Refuse, in words an admin can act on, an agent this workspace can't have:
    a name already taken (ignoring case), an owner who is not an active member
    here, or another workspace's role."""
    if not name.strip():
        raise ValidationError("Give the agent a name.")
    clash = Agent.objects.filter(workspace=workspace, name__iexact=name.strip())
    if agent is not None:
        clash = clash.exclude(pk=agent.pk)
    if clash.exists():
        raise ValidationError(f"An agent called “{name.strip()}” already exists here.")
    if owner.workspace_id != workspace.pk or not owner.user.is_active:
        raise ValidationError("The owner must be an active member of this workspace.")
    if role.workspace_id != workspace.pk:
        raise ValidationError("Choose one of this workspace's roles.")


@transaction.atomic
def agent_create(*, workspace, name: str, owner: Membership, role: Role, actor: User | None,
                 **caps) -> tuple[Agent, str]:
    """A new agent and its key, which the caller shows once; `caps` are Agent cap fields."""
    agent_check(workspace=workspace, name=name, owner=owner, role=role)
    key = new_key()
    agent = Agent.objects.create(
        workspace=workspace, name=name.strip(), owner=owner, role=role, created_by=actor,
        key_prefix=key.prefix, key_hash=key.digest, **caps,
    )
    announce(action="agent.created", actor=actor, workspace=workspace, target=name,
             details=_described(agent))
    return agent, key.raw


@transaction.atomic
def agent_rotate_key(*, agent: Agent, actor: User | None) -> str:
    """A new key for `agent`; the old one stops working at once."""
    old_prefix = agent.key_prefix
    key = new_key()
    agent.key_prefix, agent.key_hash = key.prefix, key.digest
    agent.key_issued_at, agent.revoked_at = timezone.now(), None
    agent.save(update_fields=["key_prefix", "key_hash", "key_issued_at", "revoked_at"])
    announce(action="agent.key_rotated", actor=actor, workspace=agent.workspace,
             target=agent.name, details={**_described(agent), "old_key_prefix": old_prefix})
    return key.raw


@transaction.atomic
def agent_revoke(*, agent: Agent, actor: User | None) -> None:
    """Refuse every call with this agent's key from now on (rotate to issue a new one)."""
    if agent.revoked_at is None:
        agent.revoked_at = timezone.now()
        agent.save(update_fields=["revoked_at"])
        announce(action="agent.revoked", actor=actor, workspace=agent.workspace,
                 target=agent.name, details=_described(agent))


def _shown(value) -> str | int | bool | list:
    """A cap's value as the audit log keeps it (moments as ISO text)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def agent_update(*, agent: Agent, actor: User | None, role: Role | None = None,
                 **caps) -> list[str]:
    """Change the agent's role and caps (`caps`: fields of CAP_FIELDS); announces
    `agent.updated` with each change as [before, after]. Returns the changed fields."""
    unknown = set(caps) - set(CAP_FIELDS)
    if unknown:
        raise ValueError(f"Not agent caps: {', '.join(sorted(unknown))}")
    changes: dict[str, list] = {}
    if role is not None and role.pk != agent.role_id:
        agent_check(workspace=agent.workspace, name=agent.name, owner=agent.owner, role=role,
                    agent=agent)
        changes["role"] = [agent.role.name, role.name]
        agent.role = role
    for field, value in caps.items():
        before = getattr(agent, field)
        if before != value:
            changes[field] = [_shown(before), _shown(value)]
            setattr(agent, field, value)
    if changes:
        fields = [name for name in changes if name != "role"]
        agent.save(update_fields=fields + (["role"] if "role" in changes else []))
        announce(action="agent.updated", actor=actor, workspace=agent.workspace,
                 target=agent.name, details={**_described(agent), "changes": changes})
    return list(changes)
