"""ccsim: an offline simulator of the Constant Contact V3 API and its OAuth server.

Standalone (no Django).  Start it with ``python -m ccsim --port 8765`` or, from
Python/tests, ``ccsim.start_in_thread(port=0, **options)`` (see ``ccsim.server``).

Modules:
    constants   demo OAuth client, scopes, paths (safe to import anywhere)
    server      HTTP server, routing pipeline, faults, SimServer/start_in_thread
    routes      ROUTE_TABLE: method + path -> required scope + handler
    oauth       authorize/token/revoke/JWKS, RS256 JWT access tokens
    state       in-memory store + JSON persistence;  clock: simulated time
    limits      4 rps / daily quota / token-endpoint limiters
    seed        deterministic demo account;  delivery: simulated sends + tracking
    resources/  /v3 handlers per endpoint family;  control: /__sim__ API
"""
from .constants import (ALL_SCOPES, API_SCOPES, DEFAULT_SCOPE_STRING, DEMO_CLIENT_ID,  # noqa: F401
                        DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI)

__version__ = "1.0.0"


def start_in_thread(port: int = 0, host: str = "127.0.0.1", **options):
    """Start a simulator in background threads; see ``ccsim.server.start_in_thread``."""
    from .server import start_in_thread as _start
    return _start(port=port, host=host, **options)
