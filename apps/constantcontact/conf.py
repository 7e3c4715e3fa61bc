"""The Constant Contact boundary's settings, read when used (so tests can
override them). Every one is declared, from the environment, in
ccadmin/settings.py; the numbers that come from Constant Contact's limits cite
the contract section that states them there.
"""

from urllib.parse import urlsplit

from django.conf import settings


def api_base_url() -> str:
    # Production: https://api.cc.email/v3 (contract §2.1).
    return settings.CC_API_BASE_URL.rstrip("/")


def api_origin() -> str:
    """Scheme and host of the API: `_links.next.href` is host-relative and already
    starts with /v3 (contract §2.6), so it is joined to this, not to the base URL."""
    parts = urlsplit(api_base_url())
    return f"{parts.scheme}://{parts.netloc}"


def auth_base_url() -> str:
    # Production: https://authz.constantcontact.com/oauth2/default/v1 (contract §4).
    return settings.CC_AUTH_BASE_URL.rstrip("/")


def client_id() -> str:
    return settings.CC_CLIENT_ID


def client_secret() -> str:
    return settings.CC_CLIENT_SECRET


def redirect_uri() -> str:
    # Sent byte-identical in the authorize and token requests (RFC 9700 §2.1;
    # contract §4): always from settings, never built from the request's host.
    return settings.CC_REDIRECT_URI


def fernet_keys() -> list[str]:
    return [key.strip() for key in settings.CCADMIN_FERNET_KEYS if key and key.strip()]


def rate_per_second() -> int:
    return settings.CC_RATE_PER_SECOND


def rate_window_ms() -> int:
    return settings.CC_RATE_WINDOW_MS


def daily_quota() -> int:
    return settings.CC_DAILY_QUOTA


def interactive_reserve() -> int:
    """Calls per day that only interactive work (a member waiting on a screen,
    a schedule or unschedule) may use, so background sync can't starve a send."""
    return settings.CC_INTERACTIVE_RESERVE


def throttle_cool_off_ms() -> int:
    return settings.CC_THROTTLE_COOL_OFF_MS


def token_rate_per_second() -> int:
    return settings.CC_TOKEN_RATE_PER_SECOND


def limiter_timeout(*, interactive: bool) -> float:
    """How long a call may wait for a free slot: a member waits a little, a job longer."""
    if interactive:
        return float(settings.CC_LIMITER_TIMEOUT_INTERACTIVE)
    return float(settings.CC_LIMITER_TIMEOUT_BACKGROUND)


def max_attempts() -> int:
    return settings.CC_MAX_ATTEMPTS


def refresh_margin_seconds() -> int:
    return settings.CC_REFRESH_MARGIN_SECONDS


def redis_prefix() -> str:
    return settings.CC_REDIS_PREFIX
