"""Simulator control API outside /v3 (no auth): ``/__sim__/*``.

GET    /__sim__/health                 liveness + simulated now
GET    /__sim__/state                  counts, clock, options, quota used
GET    /__sim__/faults                 current fault config
POST   /__sim__/faults   {json}        set latency_ms, error_rate_500, error_rate_503,
                                       timeout_rate, timeout_seconds, drop_rate, count, path_prefix
DELETE /__sim__/faults                 clear faults
POST   /__sim__/clock    {"advance_seconds": N}   move simulated time forward, then tick
POST   /__sim__/expire_tokens          invalidate every access token issued so far
POST   /__sim__/reset_limits           clear rate-limit windows and daily quota counters
POST   /__sim__/token    {"scopes": "...", "client_id": "..."}   mint an access token
POST   /__sim__/save                   persist now (with --state)
"""
from __future__ import annotations

import json

from .clock import iso
from .web import Response


def _body(req) -> dict:
    try:
        d = json.loads(req.body or b"{}")
        return d if isinstance(d, dict) else {}
    except ValueError:
        return {}


def handle(sim, req) -> Response:
    path, m = req.path.rstrip("/"), req.method
    if path == "/__sim__/health":
        return Response(200, {"status": "ok", "now": iso(sim.clock.now()), "base_url": sim.base_url})
    if path == "/__sim__/state" and m == "GET":
        return Response(200, {"counts": sim.state.counts(), "now": iso(sim.clock.now()),
                              "clock_offset_seconds": sim.clock.offset,
                              "pending_activities": len(sim.state.pending_activities),
                              "options": {k: v for k, v in vars(sim.options).items()},
                              "faults": sim.faults.snapshot()})
    if path == "/__sim__/faults":
        if m == "GET":
            return Response(200, sim.faults.snapshot())
        if m == "DELETE":
            sim.faults.clear()
            return Response(200, sim.faults.snapshot())
        if m == "POST":
            try:
                return Response(200, sim.faults.set(**_body(req)))
            except ValueError as e:
                return Response(400, [{"error_key": "sim.bad_fault", "error_message": str(e)}])
    if path == "/__sim__/clock" and m == "POST":
        d = _body(req)
        secs = float(d.get("advance_seconds", d.get("seconds", 0)))
        if secs < 0:
            return Response(400, [{"error_key": "sim.bad_clock", "error_message": "time only moves forward"}])
        now = sim.advance(secs)
        return Response(200, {"now": iso(now), "clock_offset_seconds": sim.clock.offset})
    if path == "/__sim__/clock" and m == "GET":
        return Response(200, {"now": iso(sim.clock.now()), "clock_offset_seconds": sim.clock.offset})
    if path == "/__sim__/expire_tokens" and m == "POST":
        sim.oauth.expire_all_tokens()
        return Response(200, {"expired": True})
    if path == "/__sim__/reset_limits" and m == "POST":
        sim.limiter.reset()
        sim.quota.reset()
        sim.token_limiter.reset()
        return Response(200, {"reset": True})
    if path == "/__sim__/token" and m == "POST":
        d = _body(req)
        from .constants import ALL_SCOPES, DEMO_CLIENT_ID
        tok = sim.mint_token(d.get("scopes") or ALL_SCOPES, d.get("client_id") or DEMO_CLIENT_ID)
        return Response(200, {"access_token": tok, "token_type": "Bearer",
                              "expires_in": int(sim.options.token_lifetime)})
    if path == "/__sim__/save" and m == "POST":
        if not sim.options.state:
            return Response(400, [{"error_key": "sim.no_state", "error_message": "start with --state PATH"}])
        sim.state.save(sim.options.state)
        return Response(200, {"saved": sim.options.state})
    return Response(404, [{"error_key": "not_found", "error_message": f"No control route {m} {path}"}])
