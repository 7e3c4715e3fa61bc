"""Tiny request/response objects shared by the router and resource handlers."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, bad_request


@dataclass
class Request:
    method: str
    path: str
    query: dict            # name -> list[str]
    headers: Any           # email.message.Message-like (case-insensitive .get)
    body: bytes
    params: dict = field(default_factory=dict)   # path parameters
    sim: Any = None         # the SimServer (state, options, clock ...)
    client_id: str | None = None
    scopes: frozenset = frozenset()
    claims: dict = field(default_factory=dict)

    @property
    def state(self):
        return self.sim.state

    def q(self, name: str, default=None):
        vals = self.query.get(name)
        return vals[0] if vals else default

    def q_all(self, name: str) -> list:
        return self.query.get(name, [])

    def q_csv(self, name: str) -> list:
        out = []
        for v in self.query.get(name, []):
            out.extend(x.strip() for x in v.split(",") if x.strip())
        return out

    def q_bool(self, name: str, default=False) -> bool:
        v = self.q(name)
        if v is None or v == "":
            return default
        if v.lower() in ("true", "1"):
            return True
        if v.lower() in ("false", "0"):
            return False
        raise bad_request(f"{name} must be true or false.")

    def q_int(self, name: str, default: int, lo: int, hi: int | None) -> int:
        v = self.q(name)
        if v is None or v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise bad_request(f"{name} must be an integer.")
        if n < lo or (hi is not None and n > hi):
            raise bad_request(f"{name} must be between {lo} and {hi}." if hi else f"{name} must be >= {lo}.")
        return n

    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def json(self, require_object=True):
        """Parse a JSON body; CC answers 415 unless Content-Type is JSON (contract §2.1)."""
        if self.content_type() != "application/json":
            raise ApiError(415, "api.unsupported_media_type",
                           "The payload must be in JSON format, and Content-Type must be application/json.")
        try:
            data = json.loads(self.body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError):
            raise bad_request("The request body is not valid JSON.", "api.malformed_json")
        if require_object and not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        return data


@dataclass
class Response:
    status: int = 200
    body: Any = None                 # JSON-able object, str or bytes
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"


def ok(body, status=200, headers=None) -> Response:
    return Response(status, body, headers or {})


def no_content() -> Response:
    return Response(204, None)
