"""A real Celery worker for the fault suite: `celery -A ccadmin worker` in a process
group of its own, so `kill()` can SIGKILL it whole (the main process and its pool
children at once, as an OOM kill or a lost node would), and `wait_until`, the one
way these tests wait: a poll with a deadline that says what it waited for.

    worker = CeleryWorker(env=..., log_path=tmp_path / "worker-1.log", name="faults-1")
    worker.start()                      # returns once the worker says it is ready
    wait_until("the run to finish", lambda: not run_row().is_active, timeout=30,
               worker=worker)
    worker.kill()                       # SIGKILL to the group; returns once all are gone
"""

from collections.abc import Callable
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import TypeVar

T = TypeVar("T")

# A worker loads Django and every app's tasks before it says "ready": a couple of
# seconds on a busy two-core machine, ten at worst.
READY_TIMEOUT = 30
# SIGKILL cannot be caught; the kernel needs only moments to take the processes down.
GONE_TIMEOUT = 10


class CeleryWorker:
    """One `celery worker` process group consuming the interactive, default and bulk queues."""

    def __init__(self, *, env: dict[str, str], log_path: Path, name: str):
        self.env = env
        self.log_path = log_path
        self.name = name
        self.process: subprocess.Popen | None = None
        self.killed = False

    def start(self) -> "CeleryWorker":
        command = [
            sys.executable, "-m", "celery", "-A", "ccadmin", "worker",
            "-Q", "interactive,default,bulk", "--hostname", f"{self.name}@%h",
            # One pool process, like a small production worker; the pool is prefork,
            # so a kill takes down a parent and its child, as it would in production.
            "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
            # Nothing to coordinate with other workers: start faster.
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,  # its own process group
                cwd=Path(__file__).resolve().parents[2],
            )
        wait_until(f"worker {self.name} to be ready", self._ready, timeout=READY_TIMEOUT,
                   worker=self)
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.name} exited with {self.process.returncode}:\n"
                                 + self.log_tail())
        return " ready." in self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group and wait until none of it is left."""
        if self.process is None or self.killed:
            return  # never signal a group id twice: once reaped, it may be someone else's
        self.killed = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # already gone
        self.process.wait(timeout=GONE_TIMEOUT)
        wait_until(f"worker {self.name}'s pool processes to die",
                   lambda: not _live_members(self.process.pid), timeout=GONE_TIMEOUT)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no worker log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _live_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that still run. A killed pool child is reparented and
    may linger as a zombie until something reaps it; a zombie runs nothing."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it exited while we looked
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def wait_until(what: str, check: Callable[[], T], *, timeout: float,
               worker: CeleryWorker | None = None, interval: float = 0.05) -> T:
    """Poll `check` until it returns something truthy, and return that; fail with
    `what` (and the worker's last log lines) once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = f"\n--- worker log ---\n{worker.log_tail()}" if worker else ""
            raise AssertionError(f"gave up after {timeout} s waiting for {what}{tail}")
        time.sleep(interval)
