"""--state persistence round trip and the command-line entry point."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import requests

from ccsim.server import start_in_thread

from .conftest import Api

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_state_round_trip(tmp_path):
    path = str(tmp_path / "sim.json")
    s = start_in_thread(port=0, contacts=30, state=path, rate_per_second=0)
    api = Api(s)
    token = s.mint_token()
    cid = api.post("/contacts", json={"email_address": {"address": "persist@example.org"},
                                      "create_source": "Account"}).json()["contact_id"]
    sid = api.post("/segments", json={"name": "P", "segment_criteria":
                                      '{"version":"1.0.0","criteria":{"type":"and","group":[]}}'}).json()["segment_id"]
    s.stop()
    assert os.path.exists(path)
    s2 = start_in_thread(port=0, state=path, rate_per_second=0)
    try:
        api2 = Api(s2, token)                      # the signing key is persisted too
        assert api2.get(f"/contacts/{cid}").json()["email_address"]["address"] == "persist@example.org"
        assert api2.get(f"/segments/{sid}").status_code == 200
        assert api2.get("/contacts?limit=500&include_count=true").json()["contacts_count"] >= 30
    finally:
        s2.stop()


def test_cli_starts_and_stops(tmp_path):
    path = str(tmp_path / "cli.json")
    proc = subprocess.Popen([sys.executable, "-m", "ccsim", "--port", "0", "--contacts", "10", "--state", path,
                             "--auto-approve"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "ccsim listening on http://127.0.0.1:" in line
        base = line.split("listening on ")[1].split()[0]
        assert requests.get(base + "/__sim__/health", timeout=5).json()["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)          # also closes the pipes
    assert proc.returncode == 0
    assert os.path.exists(path)


def test_help_lists_options():
    out = subprocess.run([sys.executable, "-m", "ccsim", "--help"], cwd=ROOT, capture_output=True, text=True).stdout
    for opt in ("--port", "--host", "--contacts", "--client", "--auto-approve", "--rate-per-second",
                "--daily-quota", "--token-lifetime", "--state"):
        assert opt in out
