"""Writing audit events: the one way anything in ccadmin records what happened."""

from typing import Any

from apps.audit.models import AuditEvent, Outcome

# Keys whose values must never be stored, whatever a caller passes in details.
_SECRET_NAMES = {"password", "token", "secret", "authorization", "cookie", "code", "otp"}
_SECRET_SUFFIXES = ("_password", "_token", "_secret", "_verifier", "_code")


def _scrub(details: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in details.items():
        name = key.lower()
        if name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES):
            clean[key] = "[removed]"
        elif isinstance(value, dict):
            clean[key] = _scrub(value)
        else:
            clean[key] = value
    return clean


def audit_event_record(
    *,
    action: str,
    actor=None,
    actor_label: str = "",
    workspace=None,
    target: str = "",
    outcome: str = Outcome.SUCCESS,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `details` is scrubbed of anything that looks like a secret."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = actor_label or actor.email
    else:
        actor, label = None, actor_label or "anonymous"
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=label[:254],
        workspace=workspace,
        target=target[:255],
        outcome=outcome,
        details=_scrub(details or {}),
    )
