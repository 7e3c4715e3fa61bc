"""What the simulator saw: a request log hooked into a simulator running in this process.

ccsim counts nothing per request that a test could read back (its control API
reports state, not traffic), so the tests wrap the simulator's `dispatch` and
note every request it routes: when it arrived, what it was, how it was answered.
Injected faults (503s, dropped connections) are answered before `dispatch` and
so are not in the log; the fault settings' remaining `count` tells those apart.
"""

from collections.abc import Iterable
from dataclasses import dataclass
import json
import threading
import time
from urllib.parse import parse_qs

TOKEN_PATH = "/oauth2/default/v1/token"


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() in this process, when the simulator started routing it
    method: str
    path: str
    status: int
    error_key: str = ""
    grant_type: str = ""  # token endpoint only

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/v3/")


class RequestLog:
    """Every request the simulator `sim` routes from now on, in arrival order."""

    def __init__(self, sim):
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []
        original = sim.dispatch

        def dispatch(req):
            at = time.monotonic()
            status, body = 500, None
            try:
                response = original(req)
                status, body = response.status, response.body
                return response
            except Exception as exc:  # ApiError and friends: the server renders them
                status = getattr(exc, "status", 500)
                body = exc.body() if hasattr(exc, "body") else None
                raise
            finally:
                self._note(Arrival(at=at, method=req.method, path=req.path, status=status,
                                   error_key=_error_key(body), grant_type=_grant_type(req)))

        # An instance attribute wins over the method: the request handler calls
        # `self.sim.dispatch(req)`.
        sim.dispatch = dispatch

    def _note(self, arrival: Arrival) -> None:
        with self._lock:
            self._arrivals.append(arrival)

    def clear(self) -> None:
        with self._lock:
            self._arrivals.clear()

    @property
    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._arrivals)

    def api(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.is_api]

    def token_calls(self, grant_type: str = "") -> list[Arrival]:
        return [a for a in self.arrivals if a.path == TOKEN_PATH
                and (not grant_type or a.grant_type == grant_type)]

    def summary(self) -> list[tuple[str, str, int, str]]:
        """(method, path, status, error_key) per request: readable in an assertion."""
        return [(a.method, a.path, a.status, a.error_key or a.grant_type) for a in self.arrivals]


def busiest_window(times: Iterable[float], seconds: float = 1.0) -> int:
    """The most arrivals inside any `seconds`-long window (half-open, like ccsim's)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def _error_key(body) -> str:
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            return ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        return str(body.get("error_key") or body.get("error") or "")
    return ""


def _grant_type(req) -> str:
    if req.path != TOKEN_PATH:
        return ""
    form = parse_qs((req.body or b"").decode("utf-8", "replace"))
    return (form.get("grant_type") or [""])[0]
