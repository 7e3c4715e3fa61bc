"""Streamable HTTP at /mcp/, inside the Django app: `Authorization: Bearer KEY`.

The SDK's streamable HTTP transport is ASGI. In stateless, JSON-response mode
it needs no server-side session and no long-lived stream: one POST carries one
JSON-RPC message and its answer comes back in the same response. So this
plain (WSGI) view serves it: it checks the key, hands the request to the SDK
as an ASGI scope with the body already read, runs it to the end with
`async_to_sync` and returns what the SDK sent. No extra process, and it works
the same under runserver and gunicorn. The tools' Django code runs back in
this request's thread (thread-sensitive sync_to_async), on its own database
connection.

A missing, unknown, revoked or expired key is a 401 with a JSON error before
the SDK sees anything, and the refusal is audited. Only POST is served: with no
sessions there is no stream to GET and nothing to DELETE (405). CSRF does not apply: the
key travels in a header a browser never adds by itself.
"""

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from apps.accounts.agents import agent_for_key
from apps.accounts.models import Agent
from apps.agents.mcp.keys import SessionKey, audit_refusal, refusal_for_key
from apps.agents.mcp.server import build_server

# Headers that describe one hop, which Django's response writes itself.
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def _bearer(request: HttpRequest) -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def _refuse(key: str, agent: Agent | None, reason: str, message: str) -> JsonResponse:
    audit_refusal(key=key, agent=agent, reason=reason, transport="http")
    response = JsonResponse({"error": "unauthorized", "reason": reason, "message": message},
                            status=401)
    response["WWW-Authenticate"] = 'Bearer realm="ccadmin-mcp"'
    return response


def _scope(request: HttpRequest) -> dict[str, Any]:
    port = request.get_port()
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": request.method, "scheme": request.scheme,
        "path": request.path, "raw_path": request.path.encode(), "root_path": "",
        "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in request.headers.items()],
        "client": (request.META.get("REMOTE_ADDR", ""), 0),
        "server": (request.get_host().rsplit(":", 1)[0], int(port) if port.isdigit() else 80),
    }


class _Exchange:
    """One request in, one response out, as the ASGI app sees them."""

    def __init__(self, body: bytes):
        self._body = body
        self._sent_body = False
        self._done: asyncio.Event | None = None
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []

    async def receive(self) -> dict[str, Any]:
        if not self._sent_body:
            self._sent_body = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        # Nothing more will come; the client "leaves" once the answer is complete.
        await self._finished().wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [(k.decode("latin-1"), v.decode("latin-1"))
                            for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                self._finished().set()

    def _finished(self) -> asyncio.Event:
        if self._done is None:
            self._done = asyncio.Event()
        return self._done


async def _serve(agent_id: int, session: SessionKey, scope: dict[str, Any],
                 exchange: _Exchange) -> None:
    manager = StreamableHTTPSessionManager(
        app=build_server(agent_id, session), json_response=True, stateless=True,
        # Django has checked the Host (ALLOWED_HOSTS) already; the key is the credential.
        security_settings=None,
    )
    async with manager.run():
        await manager.handle_request(scope, exchange.receive, exchange.send)


@csrf_exempt
def mcp_endpoint(request: HttpRequest) -> HttpResponse:
    key = _bearer(request)
    agent = agent_for_key(key) if key else None
    refusal = refusal_for_key(key, agent)
    if refusal is not None:
        return _refuse(key, agent, *refusal)
    if request.method != "POST":
        # Stateless: no stream to GET (the SDK would hold this worker open forever
        # on an empty one) and no session to DELETE. The spec allows a 405 for both.
        response = JsonResponse({"error": "method_not_allowed",
                                 "message": "This MCP server takes POST only (stateless)."},
                                status=405)
        response["Allow"] = "POST"
        return response
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"error": "too_large", "message": "The request is too large."},
                            status=413)
    exchange = _Exchange(body)
    # Each request is its own session: the key was checked just now, and the call
    # still refuses if the key is rotated between that check and the tool running.
    session = SessionKey.opened_by(agent, transport="http")
    async_to_sync(_serve)(agent.pk, session, _scope(request), exchange)
    response = HttpResponse(b"".join(exchange.chunks), status=exchange.status)
    for name, value in exchange.headers:
        if name.lower() not in _HOP_BY_HOP:
            response[name] = value
    return response
