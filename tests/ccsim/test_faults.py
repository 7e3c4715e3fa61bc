"""Fault injection through /__sim__/faults, clock control and health."""
from __future__ import annotations

import time

import pytest
import requests

from .conftest import Api


def test_error_rate_500_with_count(api, sim):
    r = requests.post(sim.base_url + "/__sim__/faults", json={"error_rate_500": 1.0, "count": 2})
    assert r.status_code == 200 and r.json()["error_rate_500"] == 1.0
    codes = [api.get("/contacts?limit=1").status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    requests.delete(sim.base_url + "/__sim__/faults")


def test_503(api, sim):
    sim.faults.set(error_rate_503=1.0, count=1)
    r = api.get("/contacts?limit=1")
    assert r.status_code == 503 and isinstance(r.json(), list)
    sim.faults.clear()


def test_drop(api, sim):
    sim.faults.set(drop_rate=1.0, count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api.url("/contacts?limit=1"), headers=api.s.headers, timeout=5)
    sim.faults.clear()
    assert api.get("/contacts?limit=1").status_code == 200


def test_latency_and_timeout(api, sim):
    sim.faults.set(latency_ms=300, count=1)
    t = time.monotonic()
    assert api.get("/contacts?limit=1").status_code == 200
    assert time.monotonic() - t >= 0.3
    sim.faults.set(timeout_rate=1.0, timeout_seconds=1.5, count=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(api.url("/contacts?limit=1"), headers=api.s.headers, timeout=0.5)
    sim.faults.clear()


def test_faults_only_under_prefix(api, sim):
    sim.faults.set(error_rate_500=1.0)
    try:
        assert requests.get(sim.base_url + "/__sim__/health").status_code == 200
        assert api.get("/contacts?limit=1").status_code == 500
    finally:
        sim.faults.clear()


def test_clock_and_state_endpoints(sim):
    before = sim.clock.offset
    r = requests.post(sim.base_url + "/__sim__/clock", json={"advance_seconds": 60})
    assert r.status_code == 200 and sim.clock.offset >= before + 60
    st = requests.get(sim.base_url + "/__sim__/state").json()
    assert st["counts"]["contacts"] >= 300
    tok = requests.post(sim.base_url + "/__sim__/token", json={"scopes": "contact_data"}).json()["access_token"]
    assert Api(sim, tok).get("/emails").status_code == 403
