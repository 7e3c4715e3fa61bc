"""Constant Contact settings for tests, written once for every area's fixtures:
where the upstream is (the simulator, for the tests that use one) and how our
own limiter and Redis keys behave while tests run."""

from django.conf import settings as django_settings

from apps.core.redis import redis_client


def point_at_simulator(settings, sim, *, client_id: str = "", client_secret: str = "",
                       redirect_uri: str = ""):
    """Talk to `sim` (a simulator started in a thread) as the client it knows;
    its demo client unless told otherwise."""
    # Imported here: ccsim is optional, and the tests that need it skip without it.
    from ccsim import constants

    settings.CC_API_BASE_URL = f"{sim.base_url}/v3"
    settings.CC_AUTH_BASE_URL = f"{sim.base_url}/oauth2/default/v1"
    settings.CC_CLIENT_ID = client_id or constants.DEMO_CLIENT_ID
    settings.CC_CLIENT_SECRET = client_secret or constants.DEMO_CLIENT_SECRET
    settings.CC_REDIRECT_URI = redirect_uri or constants.DEMO_REDIRECT_URI
    return settings


def run_unthrottled(settings, *, redis_prefix: str):
    """Our limiter out of the way and a short pause after a 429, so the suite stays
    fast (a test about the limits sets them back), with Redis keys of our own."""
    settings.CC_RATE_PER_SECOND = 1000
    settings.CC_TOKEN_RATE_PER_SECOND = 1000
    settings.CC_THROTTLE_COOL_OFF_MS = 20
    # Parallel workers share one Redis: each gets its own limiter, quota and lock
    # keys, emptied before every test so no test inherits another's budget or lock.
    prefix = f"{redis_prefix}-{django_settings.TEST_RUN}"
    settings.CC_REDIS_PREFIX = prefix
    r = redis_client()
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)
    return settings
