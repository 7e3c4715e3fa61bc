"""Fixtures: simulator servers started in-process on port 0, plus a tiny API client."""
from __future__ import annotations

import pytest
import requests

from ccsim.server import start_in_thread


class Api:
    """requests wrapper bound to a simulator and a bearer token."""

    def __init__(self, sim, token=None):
        self.sim = sim
        self.s = requests.Session()
        self.set_token(token or sim.mint_token())

    def set_token(self, token):
        self.s.headers["Authorization"] = f"Bearer {token}"

    def url(self, path):
        if path.startswith("http"):
            return path
        return self.sim.base_url + (path if path.startswith("/v3") or path.startswith("/__") else "/v3" + path)

    def get(self, path, **kw):
        return self.s.get(self.url(path), timeout=kw.pop("timeout", 10), **kw)

    def post(self, path, json=None, **kw):
        return self.s.post(self.url(path), json=json, timeout=kw.pop("timeout", 10), **kw)

    def put(self, path, json=None, **kw):
        return self.s.put(self.url(path), json=json, timeout=10, **kw)

    def patch(self, path, json=None, **kw):
        return self.s.patch(self.url(path), json=json, timeout=10, **kw)

    def delete(self, path, **kw):
        return self.s.delete(self.url(path), timeout=10, **kw)


@pytest.fixture(scope="module")
def sim():
    """A seeded simulator without rate limits (limits are tested on their own servers)."""
    s = start_in_thread(port=0, contacts=300, rate_per_second=0, daily_quota=0,
                        token_rate_per_second=0, auto_approve=True)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def api(sim):
    return Api(sim)


@pytest.fixture
def fresh_sim():
    s = start_in_thread(port=0, contacts=0, rate_per_second=0, daily_quota=0, token_rate_per_second=0)
    yield s
    s.stop()
