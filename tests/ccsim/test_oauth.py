"""OAuth authorization server: code + PKCE, errors, refresh rotation, 401/403."""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from ccsim import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI
from ccsim.oauth import pkce_pair
from ccsim.routes import ROUTE_TABLE, SCOPES
from ccsim.server import start_in_thread

from .conftest import Api

SCOPE = "account_read contact_data campaign_data offline_access"


@pytest.fixture(scope="module")
def osim():
    s = start_in_thread(port=0, contacts=20, token_rate_per_second=0, rate_per_second=0,
                        clients=["other-app:other-secret:http://localhost:9999/cb"])
    yield s
    s.stop()


def basic(cid=DEMO_CLIENT_ID, secret=DEMO_CLIENT_SECRET):
    return {"Authorization": "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()}


def authorize(sim, challenge=None, redirect=DEMO_REDIRECT_URI, scope=SCOPE, state="xyz", decision="approve"):
    params = {"client_id": DEMO_CLIENT_ID, "redirect_uri": redirect, "response_type": "code",
              "scope": scope, "state": state}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    page = requests.get(sim.base_url + "/oauth2/default/v1/authorize", params=params, allow_redirects=False)
    assert page.status_code == 200 and "Approve" in page.text
    r = requests.post(sim.base_url + "/oauth2/default/v1/authorize", data=dict(params, decision=decision),
                      allow_redirects=False)
    assert r.status_code == 302
    return parse_qs(urlsplit(r.headers["Location"]).query), r.headers["Location"]


def token(sim, data, headers=None):
    return requests.post(sim.base_url + "/oauth2/default/v1/token", data=data,
                         headers=headers if headers is not None else basic())


def test_code_pkce_flow_and_jwt(osim):
    verifier, challenge = pkce_pair()
    q, loc = authorize(osim, challenge)
    assert loc.startswith(DEMO_REDIRECT_URI)
    assert q["state"] == ["xyz"]
    r = token(osim, {"grant_type": "authorization_code", "code": q["code"][0],
                     "redirect_uri": DEMO_REDIRECT_URI, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert set(body["scope"].split()) == set(SCOPE.split())
    assert body["refresh_token"]
    jwks = requests.get(osim.base_url + "/oauth2/default/v1/keys").json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(body["access_token"], key, algorithms=["RS256"], audience="https://api.cc.email/v3")
    assert claims["cid"] == DEMO_CLIENT_ID and "contact_data" in claims["scp"]
    api = Api(osim, body["access_token"])
    assert api.get("/contacts?limit=1").status_code == 200


def test_public_pkce_client_without_secret(osim):
    verifier, challenge = pkce_pair()
    q, _ = authorize(osim, challenge)
    r = token(osim, {"grant_type": "authorization_code", "code": q["code"][0], "client_id": DEMO_CLIENT_ID,
                     "redirect_uri": DEMO_REDIRECT_URI, "code_verifier": verifier}, headers={})
    assert r.status_code == 200, r.text


def test_wrong_verifier(osim):
    _, challenge = pkce_pair()
    q, _ = authorize(osim, challenge)
    r = token(osim, {"grant_type": "authorization_code", "code": q["code"][0],
                     "redirect_uri": DEMO_REDIRECT_URI, "code_verifier": "not-the-verifier-" + "x" * 30})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_code_reuse_and_expiry(osim):
    verifier, challenge = pkce_pair()
    q, _ = authorize(osim, challenge)
    data = {"grant_type": "authorization_code", "code": q["code"][0],
            "redirect_uri": DEMO_REDIRECT_URI, "code_verifier": verifier}
    assert token(osim, data).status_code == 200
    r = token(osim, data)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # codes live 5 minutes
    verifier, challenge = pkce_pair()
    q, _ = authorize(osim, challenge)
    osim.clock.advance(301)
    r = token(osim, dict(data, code=q["code"][0], code_verifier=verifier))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_redirect_mismatch(osim):
    r = requests.get(osim.base_url + "/oauth2/default/v1/authorize", allow_redirects=False,
                     params={"client_id": DEMO_CLIENT_ID, "redirect_uri": DEMO_REDIRECT_URI + "x",
                             "response_type": "code", "scope": SCOPE, "state": "s"})
    assert r.status_code == 400 and "Location" not in r.headers
    verifier, challenge = pkce_pair()
    q, _ = authorize(osim, challenge)
    r = token(osim, {"grant_type": "authorization_code", "code": q["code"][0],
                     "redirect_uri": "http://127.0.0.1:8000/other/", "code_verifier": verifier})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_deny_and_bad_client(osim):
    q, _ = authorize(osim, decision="deny")
    assert q["error"] == ["access_denied"] and q["state"] == ["xyz"]
    r = token(osim, {"grant_type": "authorization_code", "code": "x", "redirect_uri": DEMO_REDIRECT_URI},
              headers=basic(secret="wrong"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_refresh_rotation(osim):
    verifier, challenge = pkce_pair()
    q, _ = authorize(osim, challenge)
    first = token(osim, {"grant_type": "authorization_code", "code": q["code"][0],
                         "redirect_uri": DEMO_REDIRECT_URI, "code_verifier": verifier}).json()
    r1 = token(osim, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert r1.status_code == 200, r1.text
    second = r1.json()
    assert second["refresh_token"] != first["refresh_token"]
    old = token(osim, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert old.status_code == 400
    assert old.json() == {"error": "invalid_grant", "error_description": old.json()["error_description"]}
    assert token(osim, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}).status_code == 200


def test_no_offline_access_no_refresh_token(osim):
    verifier, challenge = pkce_pair()
    q, _ = authorize(osim, challenge, scope="contact_data")
    body = token(osim, {"grant_type": "authorization_code", "code": q["code"][0],
                        "redirect_uri": DEMO_REDIRECT_URI, "code_verifier": verifier}).json()
    assert "refresh_token" not in body


def test_auto_approve_redirects_immediately():
    s = start_in_thread(port=0, auto_approve=True)
    try:
        r = requests.get(s.base_url + "/oauth2/default/v1/authorize", allow_redirects=False,
                         params={"client_id": DEMO_CLIENT_ID, "redirect_uri": DEMO_REDIRECT_URI,
                                 "response_type": "code", "scope": SCOPE, "state": "abc"})
        assert r.status_code == 302
        q = parse_qs(urlsplit(r.headers["Location"]).query)
        assert q["state"] == ["abc"] and q["code"]
    finally:
        s.stop()


def test_token_endpoint_one_per_second():
    s = start_in_thread(port=0)          # default token limit: 1 rps
    try:
        codes = []
        for _ in range(2):
            v, c = pkce_pair()
            q, _ = authorize(s, c)
            codes.append((q["code"][0], v))
        ok = token(s, {"grant_type": "authorization_code", "code": codes[0][0],
                       "redirect_uri": DEMO_REDIRECT_URI, "code_verifier": codes[0][1]})
        assert ok.status_code == 200
        r = token(s, {"grant_type": "authorization_code", "code": codes[1][0],
                      "redirect_uri": DEMO_REDIRECT_URI, "code_verifier": codes[1][1]})
        assert r.status_code == 429
    finally:
        s.stop()


def test_expired_and_invalid_tokens_401(osim):
    api = Api(osim, osim.mint_token())
    assert api.get("/contacts?limit=1").status_code == 200
    osim.clock.advance(86401)
    r = api.get("/contacts?limit=1")
    assert r.status_code == 401
    assert r.json() == {"error_key": "unauthorized", "error_message": "Unauthorized"}
    api.set_token("garbage")
    assert api.get("/contacts").status_code == 401
    r = requests.get(osim.base_url + "/v3/contacts")
    assert r.status_code == 401 and r.headers["X-Request-Id"]
    api.set_token(osim.mint_token())
    assert api.get("/contacts?limit=1").status_code == 200
    requests.post(osim.base_url + "/__sim__/expire_tokens")
    assert api.get("/contacts?limit=1").status_code == 401


def test_scope_403(osim):
    api = Api(osim, osim.mint_token(["campaign_data"]))
    r = api.get("/contacts")
    assert r.status_code == 403
    assert isinstance(r.json(), list) and r.json()[0]["error_key"]
    assert api.get("/emails").status_code == 200
    assert api.put("/account/summary", json={"first_name": "X"}).status_code == 403
    api.set_token(osim.mint_token(["account_read"]))
    assert api.get("/account/summary").status_code == 200
    assert api.put("/account/summary", json={"first_name": "X"}).status_code == 403


def test_route_table_scopes():
    assert SCOPES[("GET", "/v3/contacts")] == "contact_data"
    assert SCOPES[("POST", "/v3/emails")] == "campaign_data"
    assert SCOPES[("GET", "/v3/account/summary")] == "account_read"
    assert SCOPES[("PUT", "/v3/account/summary")] == "account_update"
    for r in ROUTE_TABLE:
        if r.path.startswith("/v3/account/") and r.path != "/v3/account/user/privileges":
            assert r.scope == ("account_read" if r.method == "GET" else "account_update")
        elif r.path.startswith("/v3/reports/contact_reports/"):
            assert r.scope == "contact_data", r.path  # contract §3: contact reports
        elif r.path.startswith(("/v3/emails", "/v3/reports")):
            assert r.scope == "campaign_data", r.path
        elif r.path != "/v3/account/user/privileges":
            assert r.scope == "contact_data", r.path
