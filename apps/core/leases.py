"""Leases: which live worker runs a job right now, kept alive by a heartbeat.

A job's row says what state the job is in; its lease, a Redis key with a short
expiry, says that a live worker is running it. A worker takes the lease before
it starts, so however often the broker delivers a job's message, only one
worker runs it at a time. While the attempt runs, a heartbeat thread renews the
lease every few seconds. A worker killed with SIGKILL stops renewing: its lease
lapses within `seconds`, and a reclaimer (a beat task) sees a job marked running
with no lease and queues it again — within a minute, instead of after the
broker's visibility timeout (an hour).

    lease = Lease(lease_key("send-job", job.pk), seconds=30)
    if not lease.acquire():
        return                       # another worker is running it
    with lease.heartbeat():
        ...
        if not lease.held():         # right before an irreversible write
            raise LeaseLost()
"""

from collections.abc import Iterator
from contextlib import contextmanager
import logging
import threading

from django.conf import settings
import redis
from redis.exceptions import LockError

from apps.core.redis import redis_client

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The lease lapsed under a running attempt: another worker may run the job now."""


def lease_key(kind: str, pk: int) -> str:
    # Under the cache's key prefix: deployments sharing a Redis keep theirs apart,
    # and each test worker's keys are cleared before every test.
    return f"{settings.CACHES['default']['KEY_PREFIX']}:lease:{kind}:{pk}"


def lease_is_held(key: str) -> bool:
    return bool(redis_client().exists(key))


class Lease:
    def __init__(self, key: str, *, seconds: int):
        self.key = key
        self.seconds = seconds
        # thread_local=False: the heartbeat thread renews with the owner's token.
        self._lock = redis_client().lock(key, timeout=seconds, blocking=False,
                                         thread_local=False)

    def acquire(self) -> bool:
        return bool(self._lock.acquire())

    def held(self) -> bool:
        """Still ours: a Redis read, not a remembered flag (the fencing check)."""
        try:
            return self._lock.owned()
        except redis.RedisError:
            return False

    def release(self) -> None:
        try:
            self._lock.release()
        except (LockError, redis.RedisError):
            pass  # it lapsed, or Redis is gone: either way nobody holds it for us

    @contextmanager
    def heartbeat(self) -> Iterator["Lease"]:
        """Renew the lease every third of its life until the block ends, then release it."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.seconds / 3):
                try:
                    self._lock.reacquire()
                except (LockError, redis.RedisError):
                    # The attempt notices at its next held() check and stops.
                    logger.warning("lease %s lapsed under a running attempt", self.key)
                    return

        thread = threading.Thread(target=beat, name=f"heartbeat {self.key}", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=self.seconds)
            self.release()
