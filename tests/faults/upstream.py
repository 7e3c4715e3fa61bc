"""Constant Contact misbehaving on purpose, and a record of what it was asked.

`Upstream` wraps a simulator started in this process (its worker-facing side is
plain HTTP, so the Celery worker under test talks to it like to the real thing):

    upstream = Upstream(sim)
    upstream.misbehave(**TEN_PERCENT_FAULTS)  # the simulator's own fault switch, plus 429s
    upstream.served                           # Counter: {"500": 2, "timeout": 1, "429": 3}
    upstream.lose_answer("POST", "/schedules")  # next one: handled, then a 504
    held = upstream.hold("GET", "/v3/contacts", nth=2)  # handled, answer held back
    held.arrived.wait(30); ...; worker.kill()
    upstream.count("POST", "/schedules")      # requests Constant Contact acted on
    upstream.calm()                           # no more faults

The simulator's fault switch (`/__sim__/faults`: 5xx, timeouts, dropped
connections) acts before a request is handled, so a faulted request changed
nothing. It has no switch for 429s, and a gateway timeout *after* the request was
handled (a lost answer) is what makes double submissions possible; both are added
here, in front of the simulator's dispatcher.
"""

from collections import Counter
from dataclasses import dataclass, field
import random
import threading

from ccsim.errors import THROTTLED, ApiError, ObjectError
from ccsim.web import Response

# How long a held answer waits for the test to release it; the test releases it
# (or ends) long before.
HOLD_LIMIT_SECONDS = 120


@dataclass
class Held:
    """A request Constant Contact handled but whose answer is held back."""

    method: str
    path_suffix: str
    nth: int
    seen: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


class Upstream:
    def __init__(self, sim, *, seed: int = 9):
        self.sim = sim
        # (method, path, status) of every /v3 request the simulator handled.
        self.handled: list[tuple[str, str, int]] = []
        # What the faults cost: "500", "503", "timeout", "drop" (the simulator's
        # switch), "429" and "lost answer" (this wrapper's).
        self.served: Counter[str] = Counter()
        self.throttle_rate = 0.0
        # Seeded, like the simulator's own fault draws (its --seed): one worker's
        # requests come in a fixed order, so a run meets the same faults every time.
        self._rng = random.Random(seed)
        self._lost: list[list] = []
        self._held: list[Held] = []
        self._lock = threading.Lock()
        self._dispatch = sim.dispatch
        self._draw = sim.faults.draw
        sim.dispatch = self._handle
        sim.faults.draw = self._draw_and_count

    # --- switching faults --------------------------------------------------------------

    def misbehave(self, *, throttle_rate: float = 0.0, **faults) -> None:
        """`faults` go to the simulator's switch (error_rate_500, error_rate_503,
        timeout_rate, timeout_seconds, drop_rate, ...); `throttle_rate` of the
        requests that get past it are refused with 429 `throttled`."""
        self.sim.faults.set(**faults)
        self.throttle_rate = throttle_rate

    def calm(self) -> None:
        self.sim.faults.clear()
        self.throttle_rate = 0.0

    def lose_answer(self, method: str, path_suffix: str, *, status: int = 504) -> None:
        """The next matching request is handled, then answered `status` as if the
        answer got lost on the way back (a gateway timeout)."""
        with self._lock:
            self._lost.append([method, path_suffix, status])

    def hold(self, method: str, path_suffix: str, *, nth: int = 1) -> Held:
        """The `nth` matching request from now on is handled, then its answer waits
        until `release_all` — long enough to kill the worker waiting for it."""
        held = Held(method, path_suffix, nth)
        with self._lock:
            self._held.append(held)
        return held

    def release_all(self) -> None:
        for held in self._held:
            held.released.set()

    def restore(self) -> None:
        self.calm()
        self.release_all()
        self.sim.dispatch = self._dispatch
        self.sim.faults.draw = self._draw

    # --- what happened -----------------------------------------------------------------

    def count(self, method: str, path_suffix: str, *, status: int | None = None) -> int:
        """Requests Constant Contact handled (with that answer status, if given)."""
        return sum(1 for m, path, s in list(self.handled)
                   if m == method and path.endswith(path_suffix)
                   and (status is None or s == status))

    # --- in the simulator's request threads ------------------------------------------

    def _draw_and_count(self, path: str):
        fault = self._draw(path)
        if fault and fault["action"]:
            with self._lock:
                self.served[fault["action"]] += 1
        return fault

    def _handle(self, req):
        if not req.path.startswith("/v3/"):
            return self._dispatch(req)
        with self._lock:
            if self.throttle_rate and self._rng.random() < self.throttle_rate:
                self.served["429"] += 1
                raise ObjectError(429, *THROTTLED)  # refused: nothing handled
            lost = next((rule for rule in self._lost if req.method == rule[0]
                         and req.path.endswith(rule[1])), None)
            if lost:
                self._lost.remove(lost)
            held = None
            for candidate in self._held:
                if req.method == candidate.method and req.path.endswith(candidate.path_suffix):
                    candidate.seen += 1
                    if candidate.seen == candidate.nth:
                        held = candidate
        try:
            answer = self._dispatch(req)
        except ApiError as exc:
            self._record(req, exc.status)
            raise
        self._record(req, answer.status)
        if held is not None:
            held.arrived.set()
            held.released.wait(HOLD_LIMIT_SECONDS)
        if lost:
            with self._lock:
                self.served["lost answer"] += 1
            return Response(lost[2], [{"error_key": "gateway_timeout",
                                       "error_message": "Endpoint request timed out"}])
        return answer

    def _record(self, req, status: int) -> None:
        with self._lock:
            self.handled.append((req.method, req.path, status))
