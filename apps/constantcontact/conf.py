"""Settings for the Constant Contact boundary, each read when used (so tests can
override them) with the embedded-simulator default.

The lead moves the real values into `ccadmin/settings.py` (env-driven); these
readers only supply defaults. Numbers that come from Constant Contact's limits
cite the contract section that states them.
"""

import os
from urllib.parse import urlsplit

from django.conf import settings


def api_base_url() -> str:
    # Production: https://api.cc.email/v3 (contract §2.1).
    return getattr(settings, "CC_API_BASE_URL", "http://127.0.0.1:8765/v3").rstrip("/")


def api_origin() -> str:
    """Scheme and host of the API: `_links.next.href` is host-relative and already
    starts with /v3 (contract §2.6), so it is joined to this, not to the base URL."""
    parts = urlsplit(api_base_url())
    return f"{parts.scheme}://{parts.netloc}"


def auth_base_url() -> str:
    # Production: https://authz.constantcontact.com/oauth2/default/v1 (contract §4).
    return getattr(
        settings, "CC_AUTH_BASE_URL", "http://127.0.0.1:8765/oauth2/default/v1"
    ).rstrip("/")


def client_id() -> str:
    return getattr(settings, "CC_CLIENT_ID", "ccadmin-demo")


def client_secret() -> str:
    return getattr(settings, "CC_CLIENT_SECRET", "ccadmin-demo-secret")


def redirect_uri() -> str:
    # Sent byte-identical in the authorize and token requests (RFC 9700 §2.1;
    # contract §4): always from settings, never built from the request's host.
    return getattr(settings, "CC_REDIRECT_URI", "http://127.0.0.1:8000/oauth/constantcontact/callback/")


def fernet_keys() -> list[str]:
    # Read from the environment too, until settings.py carries the setting.
    raw = getattr(settings, "CCADMIN_FERNET_KEYS", None)
    if raw is None:
        raw = os.environ.get("CCADMIN_FERNET_KEYS", "")
    if isinstance(raw, str):
        raw = raw.split(",")
    return [key.strip() for key in raw if key and key.strip()]


def rate_per_second() -> int:
    # 4 requests/second per API key (contract §2.5).
    return int(getattr(settings, "CC_RATE_PER_SECOND", 4))


def rate_window_ms() -> int:
    # Our window is a little longer than Constant Contact's second: admission is
    # timed in Redis, arrival at Constant Contact is later by a varying network
    # delay, so a 1,000 ms window could still look like 5 in a second upstream.
    return int(getattr(settings, "CC_RATE_WINDOW_MS", 1100))


def daily_quota() -> int:
    # 10,000 requests/day per API key, reset at 00:00 UTC (contract §2.5).
    return int(getattr(settings, "CC_DAILY_QUOTA", 10_000))


def interactive_reserve() -> int:
    """Calls per day that only interactive work (a member waiting on a screen,
    a schedule or unschedule) may use, so background sync can't starve a send."""
    return int(getattr(settings, "CC_INTERACTIVE_RESERVE", daily_quota() // 10))


def throttle_cool_off_ms() -> int:
    """How long every process pauses after Constant Contact says `throttled`: about
    one window, since no Retry-After says better (contract §2.5)."""
    return int(getattr(settings, "CC_THROTTLE_COOL_OFF_MS", 1100))


def token_rate_per_second() -> int:
    # The token endpoint has its own 1 request/second limit (contract §2.5).
    return int(getattr(settings, "CC_TOKEN_RATE_PER_SECOND", 1))


def limiter_timeout(*, interactive: bool) -> float:
    """How long a call may wait for a free slot: a member waits a little, a job longer."""
    if interactive:
        return float(getattr(settings, "CC_LIMITER_TIMEOUT_INTERACTIVE", 10))
    return float(getattr(settings, "CC_LIMITER_TIMEOUT_BACKGROUND", 120))


def max_attempts() -> int:
    # Bounded: four attempts with backoff is ~10 s worst case, inside a screen's patience.
    return int(getattr(settings, "CC_MAX_ATTEMPTS", 4))


def refresh_margin_seconds() -> int:
    # Access tokens last 24 h (contract §4); refresh 5 minutes early so a call
    # never leaves with a token that dies on the way.
    return int(getattr(settings, "CC_REFRESH_MARGIN_SECONDS", 300))


def redis_prefix() -> str:
    return getattr(settings, "CC_REDIS_PREFIX", "cc")
