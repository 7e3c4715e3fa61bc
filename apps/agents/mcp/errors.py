"""The structured errors a tool answers with, and how boundary errors map onto them.

An agent (a program) reads `error` to decide what to do next, so each refusal
has one code and the facts it needs: the grant missing, the seconds to wait,
the pending request to point a human at. Tools answer them as results with
isError set (the MCP way: the model sees them and can correct itself), never
as protocol errors and never as a traceback.
"""

from dataclasses import dataclass, field
import math
from typing import Any

from apps.constantcontact.errors import (
    BudgetExhausted,
    ConstantContactError,
    GrantDenied,
    LimiterBusy,
    QuotaExceeded,
    Throttled,
)

NOT_PERMITTED = "not_permitted"
OVER_CAP = "over_cap"
NEEDS_APPROVAL = "needs_approval"
RATE_LIMITED = "rate_limited"
UPSTREAM_ERROR = "upstream_error"
INVALID_ARGUMENTS = "invalid_arguments"
UNKNOWN_TOOL = "unknown_tool"
NOT_FOUND = "not_found"
INTERNAL_ERROR = "internal_error"

# Throttled and LimiterBusy clear within a second or two (4 requests a second);
# the day's budget and quota reset at 00:00 UTC (the caller works out the seconds).
SHORT_WAIT_SECONDS = 2


@dataclass
class ToolError(Exception):
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details}


def invalid_arguments(message: str) -> ToolError:
    return ToolError(INVALID_ARGUMENTS, message)


def not_permitted(message: str, *, reason: str, grant_missing: str = "") -> ToolError:
    details = {"reason": reason}
    if grant_missing:
        details["grant_missing"] = grant_missing
    return ToolError(NOT_PERMITTED, message, details)


def seconds_to_midnight_utc(now) -> int:
    tomorrow = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + 86400
    return max(1, math.ceil(tomorrow - now.timestamp()))


def error_for(exc: ConstantContactError, *, grant_needed: str, now) -> ToolError:
    """The structured error for what the gate or Constant Contact raised.

    `grant_needed` names the tool's grant ("write on contacts"): a role refusal
    says it is the grant missing."""
    if isinstance(exc, GrantDenied):
        if exc.reason == OVER_CAP:
            return ToolError(OVER_CAP, exc.message, {"reason": exc.reason})
        if exc.reason == NEEDS_APPROVAL:
            # Only reached for a live effect no request can be made for.
            return ToolError(NEEDS_APPROVAL, exc.message, {"reason": exc.reason})
        missing = grant_needed if exc.reason in ("role_denies", "capability_missing") else ""
        return not_permitted(exc.message, reason=exc.reason, grant_missing=missing)
    if isinstance(exc, (Throttled, LimiterBusy)):
        return ToolError(RATE_LIMITED, exc.message, {"retry_after_seconds": SHORT_WAIT_SECONDS})
    if isinstance(exc, (BudgetExhausted, QuotaExceeded)):
        return ToolError(RATE_LIMITED, exc.message,
                         {"retry_after_seconds": seconds_to_midnight_utc(now)})
    details: dict[str, Any] = {"status": exc.status}
    if exc.error_key:
        details["error_key"] = exc.error_key
    if exc.errors:
        details["errors"] = exc.errors
    return ToolError(UPSTREAM_ERROR, exc.message, details)
