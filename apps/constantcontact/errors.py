"""Typed errors for everything that can go wrong at the Constant Contact boundary.

Each error carries the HTTP status (None when the request never left), the
upstream `error_key`, a message fit to show a member, and the upstream request
id. `transient` says whether trying again later can help; only the client's
retry loop and the jobs' retry policies read it.

Error bodies come in two shapes (contract §2.4): a JSON array of
`{error_key, error_message}` for ordinary errors, a single object for 401 and
429, and the OAuth `{error, error_description}` from the token endpoint.
"""

import json
from typing import Any


class ConstantContactError(Exception):
    status: int | None = None
    transient = False
    # Requests actually sent for this call, retries included (set by the client).
    attempts = 0
    default_message = "Constant Contact refused the request."

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        error_key: str = "",
        request_id: str = "",
        errors: list[dict[str, str]] | None = None,
    ):
        self.message = message or self.default_message
        if status is not None:
            self.status = status
        self.error_key = error_key
        self.request_id = request_id
        self.errors = errors or []
        super().__init__(self.message)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, error_key={self.error_key!r}, "
            f"request_id={self.request_id!r})"
        )


class ValidationError(ConstantContactError):
    """400 (and 415): the request was wrong; `errors` lists what Constant Contact said."""

    status = 400
    default_message = "Constant Contact rejected the data."


class Unauthorized(ConstantContactError):
    status = 401
    default_message = "Constant Contact did not accept the access token."


class Forbidden(ConstantContactError):
    # Three causes Constant Contact doesn't tell apart (contract §2.3, §5.15):
    # a missing scope, a missing user privilege, or a deactivated application.
    status = 403
    default_message = (
        "Constant Contact refused: the connection lacks a scope or a user privilege, "
        "or the application is deactivated."
    )


class NotFound(ConstantContactError):
    status = 404
    default_message = "Constant Contact has no such item."


class Conflict(ConstantContactError):
    status = 409
    default_message = "That conflicts with something that already exists in Constant Contact."


class Throttled(ConstantContactError):
    """429 `throttled`: more than 4 requests in a second; fine again a moment later."""

    status = 429
    transient = True
    default_message = "Constant Contact is busy; try again in a moment."


class QuotaExceeded(ConstantContactError):
    """429 `quota_exceeded`: the day's calls are spent until 00:00 UTC. Backing off
    does not help (contract §2.5), so it is never retried."""

    status = 429
    default_message = "Today's Constant Contact API allowance is used up; it resets at 00:00 UTC."


class BudgetExhausted(QuotaExceeded):
    """Refused by our own daily budget before sending: the reserve left is kept for
    interactive work, or the whole day's quota is spent."""

    status = None
    default_message = (
        "The day's Constant Contact API budget for background work is used up; "
        "it resets at 00:00 UTC."
    )


class ActivityQueueFull(ConstantContactError):
    """429 on a bulk endpoint: over 1,000 queued activities (contract §2.5). Waiting
    for the queue to drain helps, retrying at once does not."""

    status = 429
    default_message = "Constant Contact has too many bulk jobs queued; try again later."


class LimiterBusy(Throttled):
    """No free slot in our shared 4-per-second budget within the caller's timeout."""

    status = None
    default_message = "Constant Contact calls are queued up; try again in a moment."


class LimiterUnavailable(ConstantContactError):
    """Redis, which holds the shared rate limiter and the token-refresh and sync
    locks, did not answer. Without the limiter no process can know the shared
    budget, so nothing was sent; it is worth trying again once Redis is back."""

    status = None
    transient = True
    default_message = (
        "The shared rate limiter is unavailable (Redis is down), so nothing was sent to "
        "Constant Contact."
    )

    def __init__(self, message: str = "", **kwargs):
        kwargs.setdefault("error_key", "limiter_unavailable")
        super().__init__(message, **kwargs)


class UpstreamUnavailable(ConstantContactError):
    """5xx, timeouts, dropped connections, unreadable responses."""

    status = None
    transient = True
    default_message = "Constant Contact did not answer; try again shortly."


class NotConnected(ConstantContactError):
    default_message = "This workspace is not connected to Constant Contact."


class NeedsReconnect(NotConnected):
    """The grant is dead (`invalid_grant`): an admin must connect again in a browser."""

    default_message = (
        "The Constant Contact connection has expired or was revoked; an admin must reconnect it."
    )


class OAuthError(ConstantContactError):
    """The token endpoint refused for another reason (bad client, bad code, bad verifier)."""

    default_message = "Constant Contact's sign-in service refused the request."


class GrantDenied(ConstantContactError):
    """Refused by our gate: the member's role or the connection's scopes don't allow
    this call. It was never sent."""

    status = None
    default_message = "Your role does not allow this."

    def __init__(self, message: str = "", *, reason: str = "", **kwargs):
        self.reason = reason
        super().__init__(message, error_key=reason, **kwargs)


_BY_STATUS: dict[int, type[ConstantContactError]] = {
    400: ValidationError,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    415: ValidationError,
}


def parse_error_body(text: str) -> tuple[str, str, list[dict[str, str]]]:
    """(error_key, message, all errors) from either body shape; blanks if unreadable."""
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        return "", "", []
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    errors = []
    for item in items:
        if not isinstance(item, dict):
            continue
        key = item.get("error_key") or item.get("error") or ""
        message = item.get("error_message") or item.get("error_description") or ""
        errors.append({"error_key": str(key), "error_message": str(message)})
    if not errors:
        return "", "", []
    return errors[0]["error_key"], errors[0]["error_message"], errors


def error_for_response(
    *, status: int, text: str, request_id: str = "", bulk: bool = False
) -> ConstantContactError:
    """The typed error for a non-2xx API response."""
    error_key, message, errors = parse_error_body(text)
    kwargs = {"status": status, "error_key": error_key, "request_id": request_id, "errors": errors}
    if status == 429:
        # Only the error_key tells the limits apart; no headers do (contract §2.5).
        if error_key == "quota_exceeded":
            return QuotaExceeded(message, **kwargs)
        if error_key == "throttled" or not bulk:
            return Throttled(message, **kwargs)
        # The 1,000-queued-activities body is undocumented (contract §8).
        return ActivityQueueFull(message, **kwargs)
    if status >= 500:
        return UpstreamUnavailable(message, **kwargs)
    cls = _BY_STATUS.get(status, ConstantContactError)
    return cls(message, **kwargs)
