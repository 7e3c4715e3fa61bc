"""Fixtures for the Constant Contact boundary: fake hosts for `responses`, a test
Fernet key, a fast rate limit (limiter tests build their own), and a connected
workspace."""

from datetime import timedelta

from cryptography.fernet import Fernet
from django.utils import timezone
import pytest
import responses

from apps.constantcontact import tokens
from apps.constantcontact.models import Connection
from tests.upstream_settings import run_unthrottled

API = "https://api.cc.test/v3"
AUTH = "https://authz.cc.test/oauth2/default/v1"
TOKEN_URL = AUTH + "/token"
TEST_KEY = Fernet.generate_key().decode()
ALL_SCOPES = "account_read account_update campaign_data contact_data offline_access"


@pytest.fixture(autouse=True)
def cc_settings(settings):
    settings.CC_API_BASE_URL = API
    settings.CC_AUTH_BASE_URL = AUTH
    settings.CC_CLIENT_ID = "test-client"
    settings.CC_CLIENT_SECRET = "test-secret"
    settings.CC_REDIRECT_URI = "http://testserver/oauth/constantcontact/callback/"
    settings.CCADMIN_FERNET_KEYS = [TEST_KEY]
    return run_unthrottled(settings, redis_prefix="cc-test")


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def connect(workspace, *, access="access-1", refresh="refresh-1", expires_in=86400,
            scopes=ALL_SCOPES) -> Connection:
    connection, _ = Connection.objects.get_or_create(workspace=workspace)
    connection.status = Connection.Status.CONNECTED
    tokens.apply_token_response(
        connection,
        {"access_token": access, "refresh_token": refresh, "expires_in": expires_in,
         "scope": scopes},
        now=timezone.now(),
    )
    connection.connected_at = timezone.now()
    connection.save()
    return connection


@pytest.fixture
def connection(world) -> Connection:
    return connect(world.workspace)


def token_payload(n: int, **extra) -> dict:
    return {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}",
            "token_type": "Bearer", "expires_in": 86400, "scope": ALL_SCOPES, **extra}


def expire_soon(connection: Connection, seconds: int = 60) -> None:
    connection.access_expires_at = timezone.now() + timedelta(seconds=seconds)
    connection.save(update_fields=["access_expires_at"])
