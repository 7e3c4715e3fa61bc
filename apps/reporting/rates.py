"""The rates, computed the way Constant Contact defines them.

Each formula is the description of the matching field in the spec's
`PercentsEmail` (build 3.0.178), word for word in the docstrings below;
docs/reporting.md says the same for people. All counts are *unique* counts
(contacts, not events). A rate whose denominator is zero is None ("—" on a
page), never 0 %. Across several campaigns the counts are added up first and
the rate is taken of the sums, so a campaign weighs by its size.

Constant Contact rounds its percentages to one decimal; ccadmin keeps full
precision and rounds only to show them, so the two agree to that decimal.
"""


def delivered(sends: int, bounces: int) -> int:
    """Recipients who received the email: sends less bounces."""
    return max(0, sends - bounces)


def _ratio(numerator: int, denominator: int) -> float | None:
    return 100.0 * numerator / denominator if denominator > 0 else None


def open_rate(*, opens: int, sends: int, bounces: int) -> float | None:
    """Spec: "Percentage of recipients that received the email (did not bounce) and opened it."""
    return _ratio(opens, delivered(sends, bounces))


def click_rate(*, clicks: int, opens: int) -> float | None:
    """Spec: "Percentage of recipients who opened the email who also clicked one or more
    links in it." A click-to-open rate: of the openers, not of everyone sent to."""
    return _ratio(clicks, opens)


def bounce_rate(*, bounces: int, sends: int) -> float | None:
    """Spec: "Percentage of emails sent to unique recipients that bounced."""
    return _ratio(bounces, sends)


def optout_rate(*, optouts: int, sends: int, bounces: int) -> float | None:
    """Spec: "Percentage of recipients that received the email (did not bounce) and chose
    to unsubscribe." (Constant Contact's `unsubscribe` percentage.)"""
    return _ratio(optouts, delivered(sends, bounces))


def did_not_open_rate(*, not_opened: int, sends: int, bounces: int) -> float | None:
    """Spec: "Percentage of recipients that received the email (did not bounce) but did
    not open it."""
    return _ratio(not_opened, delivered(sends, bounces))


def not_opened(*, sends: int, opens: int, bounces: int) -> int:
    """`em_not_opened`: "em_sends - em_opens - em_bounces ... reported as zero if the
    calculation results in a negative value."""
    return max(0, sends - opens - bounces)


def all_rates(*, sends: int, opens: int, clicks: int, bounces: int, optouts: int) -> dict:
    """The four headline rates of one campaign or of several campaigns' sums."""
    return {
        "open": open_rate(opens=opens, sends=sends, bounces=bounces),
        "click": click_rate(clicks=clicks, opens=opens),
        "bounce": bounce_rate(bounces=bounces, sends=sends),
        "optout": optout_rate(optouts=optouts, sends=sends, bounces=bounces),
    }
