"""Constants the Django project may import without pulling in the server."""

DEMO_CLIENT_ID = "ccadmin-demo"
DEMO_CLIENT_SECRET = "ccadmin-demo-secret"
DEMO_REDIRECT_URI = "http://127.0.0.1:8000/oauth/constantcontact/callback/"

API_SCOPES = ("account_read", "account_update", "contact_data", "campaign_data")
ALL_SCOPES = API_SCOPES + ("offline_access",)
DEFAULT_SCOPE_STRING = " ".join(ALL_SCOPES)

AUTHORIZE_PATH = "/oauth2/default/v1/authorize"
TOKEN_PATH = "/oauth2/default/v1/token"
REVOKE_PATH = "/oauth2/default/v1/revoke"
JWKS_PATH = "/oauth2/default/v1/keys"
API_PREFIX = "/v3"
AUDIENCE = "https://api.cc.email/v3"     # same audience as real CC (contract §4)
