"""`python3 dev.py run --port 8010` (which the README offers) must keep Connect
working: the OAuth redirect URI follows the web port, and the simulator registers
that same URI for the client, since it checks redirect URIs exactly."""

import importlib.util
from pathlib import Path

import pytest

from ccsim.__main__ import build_parser
from ccsim.server import SimOptions, SimServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def simulator_argv(dev, port: int, env: dict) -> list[str]:
    oauth = dev.oauth_environment(env, port)
    children = dev.local_stack(python="python", port=port, var_dir=Path("/tmp/var"),
                               with_simulator=True, oauth=oauth)
    ccsim = next(child for child in children if child.name == "ccsim")
    return ccsim.argv[ccsim.argv.index("ccsim") + 1:]


def test_the_redirect_uri_follows_the_web_port(dev):
    oauth = dev.oauth_environment({}, 8010)
    assert oauth["CC_REDIRECT_URI"] == "http://127.0.0.1:8010/oauth/constantcontact/callback/"
    web = next(c for c in dev.local_stack(python="python", port=8010, var_dir=Path("/tmp/var"),
                                          with_simulator=True, oauth=oauth) if c.name == "web")
    assert "127.0.0.1:8010" in web.argv


def test_the_simulator_accepts_the_redirect_uri_the_web_server_sends(dev):
    argv = simulator_argv(dev, 8010, {})
    options = SimOptions(**vars(build_parser().parse_args(argv)))
    options.port, options.state = 0, None
    sim = SimServer(options)
    client = sim.oauth._client("ccadmin-demo")
    assert client["client_secret"] == "ccadmin-demo-secret"
    assert "http://127.0.0.1:8010/oauth/constantcontact/callback/" in client["redirect_uris"]


def test_an_exported_redirect_uri_wins_and_the_simulator_registers_it(dev):
    env = {"CC_REDIRECT_URI": "https://tunnel.example.com/oauth/constantcontact/callback/"}
    assert dev.oauth_environment(env, 8010)["CC_REDIRECT_URI"] == env["CC_REDIRECT_URI"]
    argv = simulator_argv(dev, 8010, env)
    assert argv[argv.index("--client") + 1] == (
        "ccadmin-demo:ccadmin-demo-secret:https://tunnel.example.com/oauth/constantcontact/callback/"
    )
