"""What to tell a person when a Constant Contact call fails.

Views catch `ConstantContactError` around a service call and show
`upstream_error_message(error)` on the form or page: a plain sentence that says
what happened and what to do, never a stack trace or a 500.
"""

from apps.constantcontact import errors

_MESSAGES: list[tuple[type[errors.ConstantContactError], str]] = [
    (errors.GrantDenied, "Your role does not allow this change in Constant Contact."),
    (errors.NeedsReconnect, "The connection to Constant Contact has expired. An admin must "
     "reconnect it on the Constant Contact page; nothing was changed."),
    (errors.NotConnected, "This workspace is not connected to Constant Contact yet. An admin "
     "can connect it on the Constant Contact page."),
    (errors.LimiterUnavailable, "The shared rate limiter is unavailable (Redis is down), so "
     "nothing was sent to Constant Contact. Pages read from the local copy still work; try "
     "again in a few minutes."),
    (errors.BudgetExhausted, "Today's Constant Contact API allowance is used up for background "
     "work; it resets at 00:00 UTC. Nothing was changed."),
    (errors.QuotaExceeded, "Constant Contact's daily API limit for this application is reached; "
     "it resets at 00:00 UTC. Nothing was changed."),
    (errors.Throttled, "Constant Contact is busy (too many requests this second). Nothing was "
     "changed; please try again in a moment."),
    (errors.ActivityQueueFull, "Constant Contact already has 1,000 bulk jobs queued for this "
     "account. Try again when some have finished."),
    (errors.UpstreamUnavailable, "Constant Contact did not answer in time or is unavailable. "
     "Nothing was changed here; please try again shortly."),
    (errors.NotFound, "Constant Contact no longer has this item; it may have been deleted "
     "there. The next sync will update this page."),
    (errors.Conflict, "Constant Contact refused this because it clashes with an existing item."),
    (errors.Forbidden, "Constant Contact refused this request for this account (permission or "
     "plan)."),
]


def upstream_error_message(error: errors.ConstantContactError) -> str:
    if isinstance(error, errors.ValidationError) and error.errors:
        details = "; ".join(e.get("error_message", "") for e in error.errors if e)
        return f"Constant Contact rejected this: {details}"
    for kind, message in _MESSAGES:
        if isinstance(error, kind):
            return message
    return f"Constant Contact refused the request: {error.message}"
