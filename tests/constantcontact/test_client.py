"""The HTTP client against spec-shaped responses (contract §2.3-2.6)."""

import json

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from apps.constantcontact import errors
from apps.constantcontact.client import ApiClient, Result, token_refresh
from apps.constantcontact.ratelimit import ApiBudget
from tests.constantcontact.conftest import API, AUTH

CONTACT = {
    "contact_id": "1618ae62-4752-11e9-9c8a-fa163e6b01c1",
    "email_address": {"address": "dlang@example.com", "permission_to_send": "implicit",
                      "created_at": "2024-10-30T18:56:35Z", "opt_in_source": "Account",
                      "confirm_status": "off"},
    "first_name": "David", "last_name": "Lang", "create_source": "Account",
    "created_at": "2024-10-30T18:56:35Z", "updated_at": "2024-10-30T18:56:35Z",
}


class FakeTokens:
    def __init__(self):
        self.token = "token-1"
        self.refreshes = 0

    def access_token(self) -> str:
        return self.token

    def refresh_after_unauthorized(self) -> str:
        self.refreshes += 1
        self.token = f"token-{self.refreshes + 1}"
        return self.token


@pytest.fixture
def tokens():
    return FakeTokens()


@pytest.fixture
def budget():
    return ApiBudget(app_key="client-tests", per_second=1000, daily_quota=1000, reserve=0)


@pytest.fixture
def api(tokens, budget):
    return ApiClient(tokens=tokens, budget=budget, interactive=True)


def test_it_returns_parsed_json_and_the_upstream_request_id(mocked, api):
    mocked.get(f"{API}/contacts/{CONTACT['contact_id']}", json=CONTACT,
               headers={"x-amzn-RequestId": "req-123"})
    result = api.request("GET", path=f"/contacts/{CONTACT['contact_id']}")
    assert result.data["first_name"] == "David"
    assert (result.status, result.request_id, result.attempts) == (200, "req-123", 1)
    sent = mocked.calls[0].request
    assert sent.headers["Authorization"] == "Bearer token-1"
    assert sent.headers["Accept"] == "application/json"


def test_it_falls_back_to_x_request_id(mocked, api):
    mocked.get(f"{API}/contact_lists", json={"lists": []}, headers={"X-Request-Id": "sim-1"})
    assert api.request("GET", path="/contact_lists").request_id == "sim-1"


def test_it_sends_json_bodies_as_json(mocked, api):
    mocked.post(f"{API}/contact_lists", status=201,
                json={"list_id": "l-1", "name": "Members", "favorite": False})
    result = api.request("POST", path="/contact_lists", json={"name": "Members"},
                         idempotent=False)
    assert result.status == 201
    sent = mocked.calls[0].request
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.body) == {"name": "Members"}


def test_it_returns_none_for_204(mocked, api):
    mocked.delete(f"{API}/contacts/c-1", status=204)
    assert api.request("DELETE", path="/contacts/c-1").data is None


def test_it_returns_csv_text_for_exports(mocked, api):
    mocked.get(f"{API}/contact_exports/e-1", body="email,first_name\na@example.com,A\n",
               content_type="text/csv")
    result = api.request("GET", path="/contact_exports/e-1", produces="csv")
    assert result.data.startswith("email,first_name")
    assert mocked.calls[0].request.headers["Accept"] == "text/csv"


def test_it_keeps_the_location_header_of_an_asynchronous_delete(mocked, api):
    mocked.delete(f"{API}/contact_lists/l-1", status=202,
                  json={"activity_id": "a-1", "state": "initialized"},
                  headers={"Location": "/v3/activities/a-1"})
    result = api.request("DELETE", path="/contact_lists/l-1")
    assert (result.status, result.location, result.data["activity_id"]) == (
        202, "/v3/activities/a-1", "a-1")


# --- error bodies: an array normally, one object for 401 and 429 (contract §2.4) ----


def test_it_parses_the_array_error_shape(mocked, api):
    body = [{"error_key": "contacts.api.validation.error",
             "error_message": "Email address is required."},
            {"error_key": "contacts.api.validation.error",
             "error_message": "create_source is required."}]
    mocked.post(f"{API}/contacts", status=400, json=body, headers={"x-amzn-RequestId": "r-9"})
    with pytest.raises(errors.ValidationError) as caught:
        api.request("POST", path="/contacts", json={}, idempotent=False)
    exc = caught.value
    assert exc.status == 400
    assert exc.error_key == "contacts.api.validation.error"
    assert exc.message == "Email address is required."
    assert len(exc.errors) == 2
    assert exc.request_id == "r-9"


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (404, [{"error_key": "contacts.api.not_found", "error_message": "Not found."}],
         errors.NotFound),
        (409, [{"error_key": "contacts.api.conflict", "error_message": "Exists."}],
         errors.Conflict),
        (403, [{"error_key": "forbidden", "error_message": "Forbidden"}], errors.Forbidden),
        (415, [{"error_key": "unsupported", "error_message": "JSON only"}],
         errors.ValidationError),
    ],
)
def test_it_types_each_error_status(mocked, api, status, body, expected):
    mocked.get(f"{API}/contacts/c-1", status=status, json=body)
    with pytest.raises(expected):
        api.request("GET", path="/contacts/c-1")
    assert len(mocked.calls) == 1


def test_it_parses_the_single_object_error_shape():
    exc = errors.error_for_response(
        status=429, text='{"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}'
    )
    assert type(exc) is errors.QuotaExceeded
    assert (exc.error_key, exc.message) == ("quota_exceeded", "Limit Exceeded")


def test_an_unknown_429_on_a_bulk_endpoint_means_the_activity_queue_is_full():
    exc = errors.error_for_response(status=429, text="", bulk=True)
    assert type(exc) is errors.ActivityQueueFull and not exc.transient
    assert type(errors.error_for_response(status=429, text="")) is errors.Throttled


# --- retries -------------------------------------------------------------------------


def test_it_retries_a_503_then_succeeds(mocked, api, no_backoff):
    url = f"{API}/contacts/c-1"
    mocked.get(url, status=503, json=[{"error_key": "server_error", "error_message": "Busy"}])
    mocked.get(url, json=CONTACT)
    result = api.request("GET", path="/contacts/c-1")
    assert result.data == CONTACT
    assert result.attempts == 2
    assert len(mocked.calls) == 2
    assert len(no_backoff) == 1


def test_it_gives_up_after_the_last_attempt(mocked, api, no_backoff, settings):
    settings.CC_MAX_ATTEMPTS = 3
    mocked.get(f"{API}/contacts/c-1", status=500, json=[])
    with pytest.raises(errors.UpstreamUnavailable) as caught:
        api.request("GET", path="/contacts/c-1")
    assert caught.value.attempts == 3
    assert len(mocked.calls) == 3
    # Exponential: each pause's ceiling doubles.
    assert no_backoff[0] <= 0.5 and no_backoff[1] <= 1.0


def test_it_never_retries_quota_exceeded(mocked, api, budget, no_backoff):
    mocked.get(f"{API}/contacts", status=429,
               json={"error_key": "quota_exceeded", "error_message": "Limit Exceeded"})
    with pytest.raises(errors.QuotaExceeded):
        api.request("GET", path="/contacts")
    assert len(mocked.calls) == 1
    assert no_backoff == []
    # Everyone now stops until 00:00 UTC, without sending anything.
    with pytest.raises(errors.QuotaExceeded):
        api.request("GET", path="/contacts")
    assert len(mocked.calls) == 1
    assert budget.usage().events["quota_exceeded"] == 1


def test_it_retries_throttled_with_backoff_even_for_a_post(mocked, api, budget, no_backoff):
    url = f"{API}/emails/activities/a-1/schedules"
    mocked.post(url, status=429,
                json={"error_key": "throttled", "error_message": "Too Many Requests"})
    mocked.post(url, status=201, json=[{"scheduled_date": "2026-12-01T10:00:00Z"}])
    result = api.request("POST", path="/emails/activities/a-1/schedules",
                         json={"scheduled_date": "2026-12-01T10:00:00Z"}, idempotent=False)
    assert result.status == 201
    assert len(mocked.calls) == 2 and len(no_backoff) == 1
    assert budget.usage().events["throttled"] == 1


def test_it_does_not_resend_a_post_whose_outcome_is_unknown(mocked, api, no_backoff):
    mocked.post(f"{API}/emails/activities/a-1/tests", status=503, json=[])
    with pytest.raises(errors.UpstreamUnavailable):
        api.request("POST", path="/emails/activities/a-1/tests",
                    json={"email_addresses": ["me@example.com"]}, idempotent=False)
    assert len(mocked.calls) == 1


def test_it_retries_timeouts_on_reads(mocked, api, no_backoff):
    url = f"{API}/contact_tags"
    mocked.get(url, body=requests.ReadTimeout())
    mocked.get(url, json={"tags": []})
    assert api.request("GET", path="/contact_tags").attempts == 2


def test_it_resends_a_post_that_never_connected(mocked, api, no_backoff):
    url = f"{API}/activities/contacts_json_import"
    refused = requests.ConnectionError(
        MaxRetryError(None, url, NewConnectionError(None, "refused"))
    )
    mocked.post(url, body=refused)
    mocked.post(url, status=201, json={"activity_id": "a-1", "state": "initialized"})
    result = api.request("POST", path="/activities/contacts_json_import",
                         json={"import_data": [], "list_ids": ["l-1"]}, idempotent=False, bulk=True)
    assert result.status == 201 and len(mocked.calls) == 2


# --- 401: one refresh, one retry -------------------------------------------------------


def test_a_401_refreshes_the_token_once_and_retries(mocked, api, tokens):
    url = f"{API}/contacts"
    mocked.get(url, status=401, json={"error_key": "unauthorized", "error_message": "Unauthorized"})
    mocked.get(url, json={"contacts": [CONTACT]})
    result = api.request("GET", path="/contacts")
    assert result.data["contacts"][0]["contact_id"] == CONTACT["contact_id"]
    assert tokens.refreshes == 1
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer token-1"
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer token-2"


def test_a_second_401_is_final(mocked, api, tokens):
    mocked.get(f"{API}/contacts", status=401,
               json={"error_key": "unauthorized", "error_message": "Unauthorized"})
    with pytest.raises(errors.Unauthorized) as caught:
        api.request("GET", path="/contacts")
    assert caught.value.error_key == "unauthorized"
    assert tokens.refreshes == 1 and len(mocked.calls) == 2


# --- pagination links (contract §2.6) --------------------------------------------------


def test_next_href_is_read_from_links_and_absent_or_null_means_last_page():
    assert Result(data={"_links": {"next": {"href": "/v3/contacts?cursor=abc="}}}, status=200) \
        .next_href == "/v3/contacts?cursor=abc="
    assert Result(data={"contacts": []}, status=200).next_href is None
    assert Result(data={"segments": [], "_links": {"next": None}}, status=200).next_href is None
    assert Result(data=[], status=200).next_href is None


def test_a_next_href_is_followed_as_given_on_the_api_host(mocked, api):
    mocked.get(f"{API}/emails?limit=1&next=MQ**", json={"campaigns": []})
    api.request("GET", href="/v3/emails?limit=1&next=MQ**", params={"limit": 50})
    assert mocked.calls[0].request.url == f"{API}/emails?limit=1&next=MQ**"


def test_a_next_href_to_another_host_is_refused(mocked, api):
    with pytest.raises(errors.UpstreamUnavailable):
        api.request("GET", href="https://evil.example/v3/contacts?cursor=x")
    assert len(mocked.calls) == 0


# --- the token endpoint ------------------------------------------------------------------


def test_the_token_endpoint_uses_basic_auth_and_a_form(mocked):
    mocked.post(f"{AUTH}/token", json={"access_token": "a", "refresh_token": "r",
                                       "expires_in": 86400, "token_type": "Bearer"})
    assert token_refresh(refresh_token="old", limiter=None)["access_token"] == "a"
    sent = mocked.calls[0].request
    assert sent.headers["Authorization"].startswith("Basic ")
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.body == "grant_type=refresh_token&refresh_token=old"


def test_invalid_grant_from_the_token_endpoint_means_reconnect(mocked):
    mocked.post(f"{AUTH}/token", status=400,
                json={"error": "invalid_grant",
                      "error_description": "The refresh token is invalid or expired."})
    with pytest.raises(errors.NeedsReconnect) as caught:
        token_refresh(refresh_token="old", limiter=None)
    assert caught.value.message == "The refresh token is invalid or expired."


def test_a_throttled_token_request_waits_and_tries_again(mocked, no_backoff):
    mocked.post(f"{AUTH}/token", status=429, json={"error_key": "throttled"})
    mocked.post(f"{AUTH}/token", json={"access_token": "a", "refresh_token": "r"})
    assert token_refresh(refresh_token="old", limiter=None)["access_token"] == "a"
    assert no_backoff and no_backoff[0] >= 1.0


@responses.activate
def test_the_client_does_not_follow_redirects(api):
    responses.get(f"{API}/contacts", status=302, headers={"Location": "https://elsewhere.example/"})
    with pytest.raises(errors.ConstantContactError):
        api.request("GET", path="/contacts")
    assert len(responses.calls) == 1


def test_a_truncated_success_body_is_retried_on_reads(mocked, api, no_backoff):
    url = f"{API}/contact_lists"
    mocked.get(url, body='{"lists": [', content_type="application/json")
    mocked.get(url, json={"lists": []})
    assert api.request("GET", path="/contact_lists").data == {"lists": []}
    assert len(mocked.calls) == 2
