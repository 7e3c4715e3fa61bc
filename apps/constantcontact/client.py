"""HTTP to Constant Contact: the only module in ccadmin that imports `requests`.

`ApiClient.request` sends one API request: it waits for a slot in the shared
budget, sends with fixed timeouts, turns errors into typed exceptions, refreshes
the token once on a 401, and retries transient failures (429 `throttled`, 5xx,
timeouts, dropped connections) with jittered exponential backoff, a bounded
number of times. `quota_exceeded` is never retried. A POST whose outcome is
unknown (a timeout or 5xx after it was sent) is not retried either: it might
have imported or emailed already; the caller reconciles with a GET.

The token endpoint functions (`token_exchange`, `token_refresh`, `token_revoke`)
use HTTP Basic client auth and the token endpoint's own 1-per-second limiter.

Callers don't use this module directly: they go through `gate.py`, which checks
grants and audits every call.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
import logging
import os
import random
import threading
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from apps.constantcontact import conf
from apps.constantcontact.errors import (
    ConstantContactError,
    NeedsReconnect,
    OAuthError,
    QuotaExceeded,
    Throttled,
    Unauthorized,
    UpstreamUnavailable,
    error_for_response,
    parse_error_body,
)
from apps.constantcontact.ratelimit import ApiBudget, TokenEndpointLimiter

logger = logging.getLogger(__name__)

# (connect, read) seconds. Reads get long enough for a 500-contact page or an export.
API_TIMEOUT = (5, 30)
TOKEN_TIMEOUT = (5, 15)
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
TOKEN_ATTEMPTS = 3

_session: requests.Session | None = None
_session_pid: int | None = None
_session_lock = threading.Lock()


def session() -> requests.Session:
    """One pooled session per process (re-made after a fork, e.g. Celery prefork)."""
    global _session, _session_pid
    with _session_lock:
        if _session is None or _session_pid != os.getpid():
            s = requests.Session()
            # Retries are ours (they must pass the rate limiter), never urllib3's.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            s.mount("https://", adapter)
            s.mount("http://", adapter)
            s.headers["User-Agent"] = "ccadmin (+https://github.com/ccadmin)"
            _session, _session_pid = s, os.getpid()
        return _session


class TokenSource(Protocol):
    def access_token(self) -> str: ...

    def refresh_after_unauthorized(self) -> str: ...


@dataclass
class Result:
    """A successful response: parsed JSON (or CSV text, or None for 204)."""

    data: Any
    status: int
    request_id: str = ""
    attempts: int = 1
    location: str = ""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def next_href(self) -> str | None:
        """`_links.next.href`, or None on the last page. The link is absent there for
        most resources and null for segments and reports (contract §2.6)."""
        if not isinstance(self.data, dict):
            return None
        links = self.data.get("_links") or {}
        nxt = links.get("next") if isinstance(links, dict) else None
        href = nxt.get("href") if isinstance(nxt, dict) else None
        return href or None


def request_id_of(response: requests.Response) -> str:
    # Constant Contact's gateway (AWS API Gateway) sends x-amzn-RequestId
    # (contract §2.1, §5.17); the simulator sends X-Request-Id as well.
    return response.headers.get("x-amzn-RequestId") or response.headers.get("X-Request-Id") or ""


def url_for_href(href: str) -> str:
    """Absolute URL for a `_links.next.href`, which is host-relative and already
    starts with /v3 (contract §2.6). Followed as given: the cursor carries the
    original filters, adding them again may conflict (contract §5.6)."""
    if href.startswith(("http://", "https://")):
        # Never send the bearer token to a host that isn't the API.
        if not href.startswith(conf.api_origin() + "/"):
            raise UpstreamUnavailable("Constant Contact sent a next-page link to another host.")
        return href
    if href.startswith("/"):
        return conf.api_origin() + href
    return f"{conf.api_base_url()}/{href}"


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request provably never reached the server (safe to send again)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def sleep_for_backoff(seconds: float) -> None:
    """The pause between attempts (its own function so tests can skip the wait)."""
    time.sleep(seconds)


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter: half fixed, half random (AWS "equal jitter")."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _parse_success(response: requests.Response, produces: str) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    if produces == "csv":
        # GET /contact_exports/{id} answers text/csv (contract §2.1).
        return response.text
    try:
        return response.json()
    except ValueError:
        raise UpstreamUnavailable(
            "Constant Contact sent an unreadable response.", status=response.status_code,
            request_id=request_id_of(response),
        )


class ApiClient:
    def __init__(
        self,
        *,
        tokens: TokenSource,
        budget: ApiBudget | None,
        interactive: bool,
    ):
        self._tokens = tokens
        self._budget = budget
        self._interactive = interactive

    def request(
        self,
        method: str,
        *,
        path: str = "",
        href: str = "",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Any = None,
        idempotent: bool = True,
        bulk: bool = False,
        produces: str = "json",
    ) -> Result:
        """Send `method` to `path` (below the base URL) or to a next-page `href`."""
        url = url_for_href(href) if href else conf.api_base_url() + path
        if href:
            params = None  # the href already holds the whole query
        log_path = urlsplit(url).path  # never the query: it may hold an email address
        headers = {"Accept": "text/csv" if produces == "csv" else "application/json"}
        token = self._tokens.access_token()
        refreshed = False
        attempts = 0
        max_attempts = conf.max_attempts()
        while True:
            attempts += 1
            if self._budget is not None:
                try:
                    self._budget.acquire(
                        interactive=self._interactive,
                        timeout=conf.limiter_timeout(interactive=self._interactive),
                    )
                except ConstantContactError as exc:
                    exc.attempts = attempts - 1  # refused before sending
                    raise
            sent_for_sure = True
            started = time.monotonic()
            try:
                response = session().request(
                    method, url, params=params, json=json, files=files, data=data,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                    timeout=API_TIMEOUT, allow_redirects=False,
                )
            except requests.RequestException as exc:
                sent_for_sure = not _never_sent(exc)
                error: ConstantContactError = UpstreamUnavailable(
                    "Constant Contact did not answer in time."
                    if isinstance(exc, requests.Timeout) else "Could not reach Constant Contact."
                )
                logger.warning("cc %s %s failed: %s", method, log_path, type(exc).__name__)
            else:
                rid = request_id_of(response)
                logger.info(
                    "cc %s %s -> %s in %d ms (request %s, attempt %d)", method, log_path,
                    response.status_code, (time.monotonic() - started) * 1000, rid, attempts,
                )
                if response.status_code == 401 and not refreshed:
                    # An expired or revoked access token: refresh once, try once more
                    # (reliability §2.6). A second 401 is final.
                    refreshed = True
                    try:
                        token = self._tokens.refresh_after_unauthorized()
                    except ConstantContactError as exc:
                        exc.attempts = attempts
                        raise
                    continue
                if 200 <= response.status_code < 300:
                    try:
                        return Result(
                            data=_parse_success(response, produces),
                            status=response.status_code, request_id=rid, attempts=attempts,
                            location=response.headers.get("Location", ""),
                            headers=response.headers,
                        )
                    except UpstreamUnavailable as exc:  # a 2xx with a truncated body
                        error = exc
                else:
                    error = error_for_response(
                        status=response.status_code, text=response.text, request_id=rid,
                        bulk=bulk,
                    )
                    # A 429 was refused, not processed: safe to send again, whatever the method.
                    sent_for_sure = not isinstance(error, Throttled)
            self._note(error)
            retryable = error.transient and (idempotent or not sent_for_sure)
            if not retryable or attempts >= max_attempts:
                error.attempts = attempts
                raise error
            sleep_for_backoff(backoff_delay(attempts))

    def _note(self, error: ConstantContactError) -> None:
        if self._budget is None:
            return
        if isinstance(error, Throttled):
            self._budget.note("throttled")
            self._budget.cool_off()
        elif isinstance(error, QuotaExceeded):
            self._budget.note("quota_exceeded")
            self._budget.mark_quota_exhausted()
        elif isinstance(error, Unauthorized):
            self._budget.note("unauthorized")
        elif isinstance(error, UpstreamUnavailable):
            self._budget.note("upstream_unavailable")
        else:
            self._budget.note("client_error")


# --- The token endpoint (contract §4) -------------------------------------------


def _token_post(
    form: dict[str, str], *, limiter: TokenEndpointLimiter | None, grant_error: type
) -> dict[str, Any]:
    """POST a form to the token endpoint with HTTP Basic client auth."""
    url = conf.auth_base_url() + "/token"
    for attempt in range(1, TOKEN_ATTEMPTS + 1):
        if limiter is not None:
            limiter.acquire(timeout=10)
        try:
            response = session().post(
                url, data=form, auth=(conf.client_id(), conf.client_secret()),
                headers={"Accept": "application/json"}, timeout=TOKEN_TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            logger.warning("cc token endpoint failed: %s", type(exc).__name__)
            # Once a refresh was sent, a rotating refresh token may already be spent:
            # don't send it again blindly; the next call retries with what's stored.
            if _never_sent(exc) and attempt < TOKEN_ATTEMPTS:
                sleep_for_backoff(backoff_delay(attempt))
                continue
            raise UpstreamUnavailable("Constant Contact's sign-in service did not answer.")
        rid = request_id_of(response)
        logger.info("cc token endpoint -> %s (request %s)", response.status_code, rid)
        if response.status_code == 200:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            if not isinstance(payload, dict) or not payload.get("access_token"):
                raise UpstreamUnavailable("Constant Contact's sign-in service sent no token.")
            return payload
        error_key, message, errors = parse_error_body(response.text)
        kwargs = {"status": response.status_code, "error_key": error_key,
                  "request_id": rid, "errors": errors}
        if response.status_code == 429:
            # 1 request/second on the token endpoint (contract §2.5): refused, so safe
            # to send again after a pause.
            if attempt < TOKEN_ATTEMPTS:
                sleep_for_backoff(max(1.0, backoff_delay(attempt)))
                continue
            raise Throttled(message, **kwargs)
        if response.status_code >= 500:
            raise UpstreamUnavailable(message, **kwargs)
        if error_key == "invalid_grant":
            # Dead refresh token (used, rotated away, unused 180 days) or a bad code.
            raise grant_error(message, **kwargs)
        raise OAuthError(message, **kwargs)
    raise UpstreamUnavailable()  # pragma: no cover - the loop always returns or raises


def token_exchange(
    *, code: str, verifier: str, redirect_uri: str, limiter: TokenEndpointLimiter | None
) -> dict[str, Any]:
    """Authorization code (+ PKCE verifier) for a token pair."""
    return _token_post(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
         "code_verifier": verifier},
        limiter=limiter, grant_error=OAuthError,
    )


def token_refresh(*, refresh_token: str, limiter: TokenEndpointLimiter | None) -> dict[str, Any]:
    """A new pair for the refresh token; `invalid_grant` raises NeedsReconnect."""
    return _token_post(
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        limiter=limiter, grant_error=NeedsReconnect,
    )


def token_revoke(*, token: str, hint: str, limiter: TokenEndpointLimiter | None) -> None:
    """Best effort: the revoke endpoint is seen only in integrators' code (contract §4, L)."""
    if limiter is not None:
        limiter.acquire(timeout=10)
    try:
        session().post(
            conf.auth_base_url() + "/revoke", data={"token": token, "token_type_hint": hint},
            auth=(conf.client_id(), conf.client_secret()), timeout=TOKEN_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        logger.warning("cc revoke failed: %s", type(exc).__name__)

