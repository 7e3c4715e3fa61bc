"""Simulated CC authorization server (Okta-style), contract §4.

* ``GET  /oauth2/default/v1/authorize``  consent page (or 302 with --auto-approve)
* ``POST /oauth2/default/v1/authorize``  Approve/Deny -> 302 to redirect_uri
* ``POST /oauth2/default/v1/token``      authorization_code (+PKCE S256), refresh_token
* ``POST /oauth2/default/v1/revoke``     (integrator-only in CC, contract §4: L)
* ``GET  /oauth2/default/v1/keys``       JWKS for the RS256 access tokens

Rules: exact redirect-URI match; codes single-use and valid 5 minutes; HTTP
Basic client auth (PKCE public clients may send client_id + code_verifier
instead); ``offline_access`` yields a refresh token; rotating refresh tokens
invalidate every earlier token of the grant (contract §4 "Rotating"), reuse ->
``invalid_grant``; token endpoint limited to 1 request/second (contract §2.5).
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .constants import API_SCOPES, AUDIENCE
from .errors import OAuthError, unauthorized
from .web import Response

KNOWN_SCOPES = API_SCOPES + ("offline_access", "billing_data", "openid", "profile")
CODE_TTL = 300                                # 5 minutes (contract §4)
REFRESH_IDLE_TTL = 180 * 86400                # unused refresh tokens expire (contract §4)
KEY_ID = "ccsim-1"
SIM_USER_ID = "00u1simuser0000000001"


class OAuthService:
    def __init__(self, sim):
        self.sim = sim
        st = sim.state
        if not st.private_key_pem:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            st.private_key_pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()).decode()
        self._key = serialization.load_pem_private_key(st.private_key_pem.encode(), None)
        self._pub = self._key.public_key()

    # ------------------------------------------------------------ clients
    def register_client(self, client_id: str, secret: str, redirect_uris, name: str | None = None):
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        with self.sim.state.lock:
            self.sim.state.oauth_clients[client_id] = {
                "client_id": client_id, "client_secret": secret,
                "redirect_uris": list(redirect_uris), "name": name or client_id}

    def _client(self, client_id):
        return self.sim.state.oauth_clients.get(client_id or "")

    @property
    def issuer(self) -> str:
        return f"{self.sim.base_url}/oauth2/default"

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._pub))
        jwk.update({"kid": KEY_ID, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    # ------------------------------------------------------------ authorize
    def _authorize_params(self, params: dict):
        """Validate; returns (params, error_response_or_None)."""
        p = {k: v[0] for k, v in params.items() if v}
        client = self._client(p.get("client_id"))
        if not client:
            return p, _html(400, "Invalid client", "Unknown client_id.")
        # Exact match only (contract §4); never redirect to an unregistered URI.
        if p.get("redirect_uri") not in client["redirect_uris"]:
            return p, _html(400, "Invalid redirect_uri",
                            "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.")
        if p.get("response_type") != "code":
            return p, _redirect(p["redirect_uri"], error="unsupported_response_type",
                                error_description="response_type must be code", state=p.get("state"))
        scopes = (p.get("scope") or "").split()
        bad = [s for s in scopes if s not in KNOWN_SCOPES]
        if not scopes or bad:
            return p, _redirect(p["redirect_uri"], error="invalid_scope",
                                error_description=f"Unknown scope(s): {' '.join(bad) or '(none)'}",
                                state=p.get("state"))
        if p.get("code_challenge") and p.get("code_challenge_method", "plain") != "S256":
            return p, _redirect(p["redirect_uri"], error="invalid_request",
                                error_description="code_challenge_method must be S256", state=p.get("state"))
        return p, None

    def authorize_get(self, req) -> Response:
        p, err = self._authorize_params(req.query)
        if err:
            return err
        if self.sim.options.auto_approve:
            return self._approve(p)
        return _consent_page(p, self._client(p["client_id"]))

    def authorize_post(self, req) -> Response:
        form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        merged = dict(req.query)
        merged.update(form)
        p, err = self._authorize_params(merged)
        if err:
            return err
        if (p.get("decision") or "").lower() != "approve":
            return _redirect(p["redirect_uri"], error="access_denied",
                             error_description="The resource owner denied the request.", state=p.get("state"))
        return self._approve(p)

    def _approve(self, p) -> Response:
        code = secrets.token_urlsafe(32)
        with self.sim.state.lock:
            self.sim.state.auth_codes[code] = {
                "client_id": p["client_id"], "redirect_uri": p["redirect_uri"],
                "scope": " ".join(dict.fromkeys(p["scope"].split())),
                "code_challenge": p.get("code_challenge"),
                "expires": self.sim.clock.time() + CODE_TTL, "used": False}
        return _redirect(p["redirect_uri"], code=code, state=p.get("state"))

    # ------------------------------------------------------------ token
    def token(self, req) -> Response:
        try:
            form = {k: v[0] for k, v in req.query.items() if v}   # CC support examples use the query string
            form.update({k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items() if v})
            client_id, authed = self._client_auth(req, form)
            if not self.sim.token_limiter.allow(client_id or "anonymous"):
                raise OAuthError(429, "too_many_requests", "The token endpoint allows 1 request per second.")
            gt = form.get("grant_type")
            with self.sim.state.lock:
                if gt == "authorization_code":
                    body = self._grant_code(form, client_id, authed)
                elif gt == "refresh_token":
                    body = self._grant_refresh(form, client_id, authed)
                else:
                    raise OAuthError(400, "unsupported_grant_type", f"grant_type {gt!r} is not supported.")
            return Response(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})
        except OAuthError as e:
            headers = {"WWW-Authenticate": 'Basic realm="ccsim"'} if e.status == 401 else {}
            return Response(e.status, e.body(), headers)

    def _client_auth(self, req, form):
        """Returns (client_id, authenticated_with_secret)."""
        auth = req.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                cid, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except Exception:
                raise OAuthError(401, "invalid_client", "Malformed Basic authorization header.")
            client = self._client(cid)
            if not client or not secrets.compare_digest(client["client_secret"], secret):
                raise OAuthError(401, "invalid_client", "Client authentication failed.")
            return cid, True
        cid = form.get("client_id")
        client = self._client(cid)
        if not client:
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        if "client_secret" in form:
            if not secrets.compare_digest(client["client_secret"], form["client_secret"]):
                raise OAuthError(401, "invalid_client", "Client authentication failed.")
            return cid, True
        return cid, False

    def _grant_code(self, form, client_id, authed):
        st = self.sim.state
        code = form.get("code") or ""
        rec = st.auth_codes.get(code)
        if not rec or rec["used"] or rec["expires"] < self.sim.clock.time() or rec["client_id"] != client_id:
            if rec:
                rec["used"] = True     # single use, even on failure
            raise OAuthError(400, "invalid_grant",
                             "The authorization code is invalid or has expired.")
        rec["used"] = True
        if form.get("redirect_uri") != rec["redirect_uri"]:
            raise OAuthError(400, "invalid_grant",
                             "The redirect_uri does not match the redirect_uri used in the authorization request.")
        verifier = form.get("code_verifier")
        if rec["code_challenge"]:
            if not verifier:
                raise OAuthError(400, "invalid_request", "PKCE verification failed: code_verifier is required.")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not secrets.compare_digest(digest, rec["code_challenge"]):
                raise OAuthError(400, "invalid_grant", "PKCE verification failed.")
        elif not authed:
            raise OAuthError(401, "invalid_client", "Client authentication is required.")
        return self._issue(client_id, rec["scope"], family=None, public=not authed)

    def _grant_refresh(self, form, client_id, authed):
        st = self.sim.state
        rt = form.get("refresh_token") or ""
        rec = st.refresh_tokens.get(rt)
        now = self.sim.clock.time()
        if not rec or rec["client_id"] != client_id or rec["last_used"] + REFRESH_IDLE_TTL < now:
            raise OAuthError(400, "invalid_grant", "The refresh token is invalid or expired.")
        if not authed and not rec.get("public"):
            raise OAuthError(401, "invalid_client", "Client authentication is required.")
        scope = rec["scope"]
        if form.get("scope"):
            req_scopes = form["scope"].split()
            if any(s not in scope.split() for s in req_scopes):
                raise OAuthError(400, "invalid_scope", "The requested scope exceeds the original grant.")
            scope = " ".join(req_scopes)
        if self.sim.options.refresh_mode == "long_lived":
            rec["last_used"] = now
            return self._issue(client_id, scope, family=rec["family"], public=rec.get("public"), reuse=rt)
        # Rotating: a new set of tokens expires ALL previous refresh tokens of the grant.
        fam = rec["family"]
        for k in [k for k, v in st.refresh_tokens.items() if v["family"] == fam]:
            del st.refresh_tokens[k]
        return self._issue(client_id, scope, family=fam, public=rec.get("public"))

    def _issue(self, client_id, scope, family, public, reuse=None):
        st = self.sim.state
        now = self.sim.clock.time()
        lifetime = int(self.sim.options.token_lifetime)
        scopes = scope.split()
        claims = {
            "ver": 1, "jti": "AT." + uuid.uuid4().hex, "iss": self.issuer, "aud": AUDIENCE,
            "iat": int(now), "exp": int(now) + lifetime, "cid": client_id, "uid": SIM_USER_ID,
            "scp": scopes, "sub": "sim-user@example.com", "platform": "ccsim",
            "sim_epoch": st.token_epoch,
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})
        body = {"token_type": "Bearer", "expires_in": lifetime, "access_token": token, "scope": " ".join(scopes)}
        if "offline_access" in scopes:
            rt = reuse or secrets.token_urlsafe(30)[:40]   # fits django-ctct's 50-char column (contract §4)
            if not reuse:
                st.refresh_tokens[rt] = {"client_id": client_id, "scope": scope, "family": family or uuid.uuid4().hex,
                                         "created": now, "last_used": now, "public": bool(public)}
            body["refresh_token"] = rt
        st.dirty = True
        return body

    def revoke(self, req) -> Response:
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items() if v}
        try:
            self._client_auth(req, form)
        except OAuthError as e:
            return Response(e.status, e.body())
        with self.sim.state.lock:
            rec = self.sim.state.refresh_tokens.get(form.get("token", ""))
            if rec:
                fam = rec["family"]
                for k in [k for k, v in self.sim.state.refresh_tokens.items() if v["family"] == fam]:
                    del self.sim.state.refresh_tokens[k]
        return Response(200, b"", content_type="text/plain")

    # ------------------------------------------------------------ resource server side
    def verify(self, authorization: str | None) -> dict:
        """Validate a Bearer header; returns claims or raises the CC 401 object."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise unauthorized("Unauthorized")
        token = authorization[7:].strip()
        try:
            claims = jwt.decode(token, self._pub, algorithms=["RS256"], audience=AUDIENCE,
                                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
        except jwt.PyJWTError:
            raise unauthorized("Unauthorized")
        # Expiry against the *simulated* clock (PyJWT would use the wall clock).
        if claims.get("exp", 0) <= self.sim.clock.time() or claims.get("sim_epoch") != self.sim.state.token_epoch:
            raise unauthorized("Unauthorized")
        return claims

    def expire_all_tokens(self):
        with self.sim.state.lock:
            self.sim.state.token_epoch += 1
            self.sim.state.dirty = True


def pkce_pair(verifier: str | None = None) -> tuple[str, str]:
    """Helper for tests and scripts: returns (code_verifier, S256 code_challenge)."""
    verifier = verifier or secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _redirect(uri: str, **params) -> Response:
    params = {k: v for k, v in params.items() if v is not None}
    parts = urlsplit(uri)
    q = parts.query + ("&" if parts.query else "") + urlencode(params)
    return Response(302, b"", {"Location": urlunsplit(parts._replace(query=q))}, content_type="text/plain")


def _html(status, title, message) -> Response:
    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>")
    return Response(status, body, content_type="text/html; charset=utf-8")


def _consent_page(p: dict, client: dict) -> Response:
    hidden = "".join(f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
                     for k, v in p.items() if k != "decision")
    scopes = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in p["scope"].split())
    body = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Constant Contact (simulated) - authorize</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}}</style></head>
<body><h1>Authorize {html.escape(client.get('name') or client['client_id'])}</h1>
<p>This is the <strong>ccsim</strong> simulator. The application requests:</p><ul>{scopes}</ul>
<form method="post">{hidden}
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form></body></html>"""
    return Response(200, body, content_type="text/html; charset=utf-8")
