"""HTTP server, routing, auth/limit/scope pipeline, fault injection, control API.

Python API (what tests and the Django project use)::

    from ccsim.server import start_in_thread
    sim = start_in_thread(port=0, contacts=200, auto_approve=True)
    sim.base_url                      # "http://127.0.0.1:54321"
    sim.state                         # ccsim.state.State (hold sim.state.lock to mutate)
    sim.clock.advance(3600)           # or sim.advance(3600): moves time and runs the ticker
    token = sim.mint_token()          # access token without the OAuth dance
    sim.faults.set(error_rate_500=1.0, count=2)
    sim.stop()

Request pipeline for ``/v3``: faults -> bearer token (401 object) ->
4 rps per client (429 throttled) -> daily quota (429 quota_exceeded) ->
scope from ``ccsim.routes.ROUTE_TABLE`` (403 array) -> handler (under the
state lock).  Every response carries ``X-Request-Id`` (and the AWS-style
``x-amzn-RequestId`` that real CC sends, contract §2.1 / §5.17).
"""
from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import constants
from .clock import SimClock
from .errors import ApiError, ObjectError, QUOTA_EXCEEDED, THROTTLED, forbidden
from .limits import DailyQuota, SlidingWindow
from .state import State
from .web import Request, Response

log = logging.getLogger("ccsim")


@dataclass
class SimOptions:
    """All server options (CLI flags map 1:1, dashes -> underscores)."""
    host: str = "127.0.0.1"
    port: int = 8765
    contacts: int = 0                 # seed a demo account with N contacts (0 = empty account)
    seed: int = 42                    # RNG seed for the demo account, delivery and faults
    clients: list = field(default_factory=list)   # "ID:SECRET:REDIRECT_URI" strings or (id, secret, uri)
    auto_approve: bool = False
    rate_per_second: float = 4        # contract §2.5
    daily_quota: int = 10000          # contract §2.5
    token_lifetime: int = 86400       # contract §4: 24 h
    token_rate_per_second: float = 1  # contract §2.5: token endpoint 1 rps
    refresh_mode: str = "rotating"    # or "long_lived" (contract §4)
    state: str | None = None          # JSON persistence path
    save_interval: float = 10.0
    tick_interval: float = 0.25
    activity_start_delay: float = 1.0     # seconds an activity stays "initialized"
    activity_items_per_second: float = 2000.0
    protect_sent: bool = False        # also refuse PUT/DELETE of sent campaigns (stricter than spec)
    # GET /contacts?segment_id= answers 202 "still evaluating" this many times after
    # each segment create or edit before it answers 200 (spec getContacts).
    segment_evaluation_polls: int = 1
    verbose: bool = False


class Faults:
    """Fault injection config (``/__sim__/faults``).  Applies to paths under ``path_prefix``."""
    KEYS = {"latency_ms": 0, "error_rate_500": 0.0, "error_rate_503": 0.0, "timeout_rate": 0.0,
            "timeout_seconds": 30.0, "drop_rate": 0.0, "count": None, "path_prefix": "/v3"}

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.clear()

    def clear(self):
        with self._lock:
            self.cfg = dict(self.KEYS)

    def set(self, **kw):
        unknown = set(kw) - set(self.KEYS)
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        with self._lock:
            self.cfg.update(kw)
        return self.snapshot()

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self.cfg)

    def draw(self, path: str) -> dict | None:
        """Decide the faults for one request; returns None if nothing applies."""
        with self._lock:
            c = self.cfg
            if not path.startswith(c["path_prefix"] or "/"):
                return None
            active = c["latency_ms"] or c["error_rate_500"] or c["error_rate_503"] or c["timeout_rate"] or c["drop_rate"]
            if not active:
                return None
            if c["count"] is not None:
                if c["count"] <= 0:
                    return None
                c["count"] -= 1
            r = self._rng.random()
            out = {"latency_ms": c["latency_ms"], "action": None, "timeout_seconds": c["timeout_seconds"]}
            acc = 0.0
            for action, key in (("drop", "drop_rate"), ("timeout", "timeout_rate"),
                                ("500", "error_rate_500"), ("503", "error_rate_503")):
                acc += float(c[key] or 0)
                if r < acc:
                    out["action"] = action
                    break
            return out


class SimServer:
    def __init__(self, options: SimOptions | None = None, **kw):
        self.options = options or SimOptions(**kw)
        self.clock = SimClock()
        self.state = State(self.clock)
        self.base_url = ""
        if self.options.state:
            self.state.load(self.options.state)
        self.limiter = SlidingWindow(self.clock, self.options.rate_per_second)
        self.quota = DailyQuota(self.clock, self.options.daily_quota)
        self.token_limiter = SlidingWindow(self.clock, self.options.token_rate_per_second)
        self.faults = Faults(self.options.seed)
        from .oauth import OAuthService
        self.oauth = OAuthService(self)
        self.oauth.register_client(constants.DEMO_CLIENT_ID, constants.DEMO_CLIENT_SECRET,
                                   [constants.DEMO_REDIRECT_URI], "ccadmin (demo)")
        for spec in self.options.clients:
            cid, secret, uri = spec.split(":", 2) if isinstance(spec, str) else spec
            self.oauth.register_client(cid, secret, [uri])
        if self.options.contacts and not self.state.contacts:
            from .seed import seed_account
            seed_account(self.state, self.options.contacts, self.options.seed)
        elif not self.state.account:
            from .seed import seed_account
            seed_account(self.state, 0, self.options.seed)
        self.httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._last_save = time.monotonic()

    # ------------------------------------------------------------ lifecycle
    def bind(self):
        handler = type("Handler", (_Handler,), {"sim": self})
        self.httpd = ThreadingHTTPServer((self.options.host, self.options.port), handler)
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        return self

    def start(self) -> "SimServer":
        """Bind and serve in background threads (HTTP + ticker)."""
        if not self.httpd:
            self.bind()
        t = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                             name="ccsim-http", daemon=True)
        t.start()
        tk = threading.Thread(target=self._ticker, name="ccsim-ticker", daemon=True)
        tk.start()
        self._threads = [t, tk]
        return self

    def serve_forever(self):
        try:
            # Inside the try: a SIGTERM that lands while the threads start must
            # still stop them and save --state.
            self.start()
            while not self._stop.is_set():
                self._stop.wait(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self):
        self._stop.set()
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        for t in self._threads:
            t.join(timeout=2)
        if self.options.state:
            self.state.save(self.options.state)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _ticker(self):
        while not self._stop.wait(self.options.tick_interval):
            try:
                self.tick()
                if (self.options.state and self.state.dirty
                        and time.monotonic() - self._last_save > self.options.save_interval):
                    self._last_save = time.monotonic()
                    self.state.save(self.options.state)
            except Exception:       # keep ticking; a bug must not kill the simulator
                log.exception("ccsim ticker failed")

    # ------------------------------------------------------------ simulation helpers
    def tick(self):
        """Progress bulk activities and deliver due campaigns (also run lazily per request)."""
        from . import delivery
        from .resources import activities
        with self.state.lock:
            activities.process_due(self)
            delivery.process_due(self)

    def advance(self, seconds: float):
        """Move simulated time forward and process everything that became due."""
        self.clock.advance(seconds)
        self.tick()
        return self.clock.now()

    def mint_token(self, scopes=constants.ALL_SCOPES, client_id: str = constants.DEMO_CLIENT_ID) -> str:
        """Issue an access token directly (no OAuth dance, no token-endpoint limit)."""
        if isinstance(scopes, str):
            scopes = scopes.split()
        with self.state.lock:
            return self.oauth._issue(client_id, " ".join(scopes), family=None, public=False)["access_token"]

    def url(self, path: str) -> str:
        return self.base_url + path

    # ------------------------------------------------------------ dispatch
    def dispatch(self, req: Request) -> Response:
        path = req.path
        if path.startswith(constants.API_PREFIX + "/") or path == constants.API_PREFIX:
            return self._dispatch_api(req)
        if path.startswith("/__sim__/") or path == "/__sim__":
            from . import control
            return control.handle(self, req)
        if path == constants.AUTHORIZE_PATH:
            if req.method == "GET":
                return self.oauth.authorize_get(req)
            if req.method == "POST":
                return self.oauth.authorize_post(req)
        elif path == constants.TOKEN_PATH and req.method == "POST":
            return self.oauth.token(req)
        elif path == constants.REVOKE_PATH and req.method == "POST":
            return self.oauth.revoke(req)
        elif path == constants.JWKS_PATH and req.method == "GET":
            return Response(200, self.oauth.jwks())
        elif path == "/":
            return Response(200, {"service": "ccsim", "api": self.base_url + "/v3",
                                  "authorize": self.base_url + constants.AUTHORIZE_PATH})
        return Response(404, [{"error_key": "not_found", "error_message": f"No route for {req.method} {path}"}])

    def _dispatch_api(self, req: Request) -> Response:
        from .routes import match
        claims = self.oauth.verify(req.headers.get("Authorization"))
        client_id = claims.get("cid", "")
        req.client_id, req.claims = client_id, claims
        req.scopes = frozenset(claims.get("scp") or [])
        if not self.limiter.allow(client_id):
            raise ObjectError(429, *THROTTLED)
        if not self.quota.allow(client_id):
            raise ObjectError(429, *QUOTA_EXCEEDED)
        route, params, allowed = match(req.method, req.path)
        if route is None:
            if allowed:
                raise ApiError(405, "api.method_not_allowed", f"Method {req.method} is not allowed here.",
                               {"Allow": ", ".join(sorted(allowed))})
            raise ApiError(404, "api.not_found", f"No resource at {req.path}.")
        if route.scope and route.scope not in req.scopes:
            raise forbidden(f"The access token lacks the required scope: {route.scope}.")
        req.params = params
        with self.state.lock:
            from . import delivery
            from .resources import activities
            activities.process_due(self)          # lazy progress on reads (plus the ticker)
            delivery.process_due(self)
            resp = route.handler(req)
            if isinstance(resp.body, (dict, list)):
                resp.body = json.dumps(resp.body, separators=(",", ":")).encode()
            return resp


def _encode(resp: Response) -> bytes:
    b = resp.body
    if b is None:
        return b""
    if isinstance(b, bytes):
        return b
    if isinstance(b, str):
        return b.encode("utf-8")
    return json.dumps(b, separators=(",", ":")).encode()


class _Handler(BaseHTTPRequestHandler):
    sim: SimServer = None
    protocol_version = "HTTP/1.1"
    server_version = "ccsim/1.0"

    def setup(self):
        super().setup()
        # Headers and body are separate writes; without TCP_NODELAY Nagle + delayed
        # ACK add ~40 ms to every keep-alive response.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.sim.options.verbose:
            log.info("%s - %s", self.address_string(), fmt % args)

    def _handle(self):
        rid = str(uuid.uuid4())
        parts = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        fault = self.sim.faults.draw(parts.path)
        if fault:
            if fault["latency_ms"]:
                time.sleep(fault["latency_ms"] / 1000.0)
            act = fault["action"]
            if act == "drop":
                self._drop()
                return
            if act == "timeout":
                time.sleep(float(fault["timeout_seconds"]))
                self._drop()
                return
            if act in ("500", "503"):
                msg = ("There was a problem with our internal service." if act == "500"
                       else "Our internal service is temporarily unavailable.")
                self._send(Response(int(act), [{"error_key": "server_error" if act == "500" else "service_unavailable",
                                                  "error_message": msg}]), rid)
                return
        req = Request(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                      self.headers, body, sim=self.sim)
        try:
            resp = self.sim.dispatch(req)
        except ApiError as e:
            resp = Response(e.status, e.body(), dict(e.headers))
        except Exception:
            log.error("ccsim handler crashed: %s", traceback.format_exc())
            resp = Response(500, [{"error_key": "server_error",
                                   "error_message": "There was a problem with our internal service."}])
        self._send(resp, rid)

    def _drop(self):
        # Close the TCP connection without any response bytes.
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    def _send(self, resp: Response, rid: str):
        data = _encode(resp)
        try:
            self.send_response(resp.status)
            self.send_header("X-Request-Id", rid)
            self.send_header("x-amzn-RequestId", rid)
            if resp.status != 204:
                self.send_header("Content-Type", resp.content_type)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data) if resp.status != 204 else 0))
            self._headers_buffer.append(b"\r\n")
            if resp.status != 204 and self.command != "HEAD":
                self._headers_buffer.append(data)     # one write for headers + body
            self.flush_headers()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


def start_in_thread(port: int = 0, host: str = "127.0.0.1", **options) -> SimServer:
    """Start a simulator on ``host:port`` (0 = any free port) in daemon threads.

    ``options`` are ``SimOptions`` fields (contacts=, auto_approve=, rate_per_second=,
    daily_quota=, token_lifetime=, clients=, state=, ...).  Returns the running
    ``SimServer``; call ``.stop()`` (or use it as a context manager) when done.
    """
    valid = {f.name for f in fields(SimOptions)}
    bad = set(options) - valid
    if bad:
        raise TypeError(f"unknown ccsim options: {sorted(bad)}")
    return SimServer(SimOptions(host=host, port=port, **options)).start()
