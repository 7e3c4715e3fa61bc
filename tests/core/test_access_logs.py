"""The OAuth callback's code and state never reach an access log we write: the
development server's request lines are redacted, and gunicorn's access log
leaves out query strings (and the Referer, which repeats them)."""

from datetime import timedelta
import io
import logging
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger
import pytest

from ccadmin import gunicorn_conf
from ccadmin.log_filters import RedactOAuthQuery, redact

CALLBACK = "/oauth/constantcontact/callback/?code=SECRET-CODE&state=SECRET-STATE"


def server_record(request_line: str) -> logging.LogRecord:
    """A record as Django's development server logs a request."""
    return logging.LogRecord("django.server", logging.INFO, __file__, 0, '"%s" %s %s',
                             (request_line, "302", "0"), None)


def test_the_filter_removes_the_code_and_state_from_a_request_line():
    record = server_record(f"GET {CALLBACK} HTTP/1.1")

    assert RedactOAuthQuery().filter(record) is True
    assert record.getMessage() == (
        '"GET /oauth/constantcontact/callback/?code=[removed]&state=[removed] HTTP/1.1" 302 0'
    )


@pytest.mark.parametrize("query, expected", [
    ("?state=s&code=c&scope=contact_data", "?state=[removed]&code=[removed]&scope=contact_data"),
    ("?%63ode=c", "?%63ode=[removed]"),  # Django decodes the name: it is "code"
    ("?code=", "?code=[removed]"),
    ("?error=access_denied&state=s", "?error=access_denied&state=[removed]"),
    ("?q=code%3Dx", "?q=code%3Dx"),
    ("?encode=x&codes=y", "?encode=x&codes=y"),
])
def test_the_filter_redacts_only_the_code_and_state(query, expected):
    assert redact(f"GET /callback/{query} HTTP/1.1") == f"GET /callback/{expected} HTTP/1.1"


def test_text_without_a_query_is_left_alone():
    assert redact("Watching for file changes") == "Watching for file changes"


def test_the_development_servers_log_is_redacted():
    # settings.LOGGING attaches the filter to django.server's logger.
    logger = logging.getLogger("django.server")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    try:
        logger.info('"%s" %s %s', f"GET {CALLBACK} HTTP/1.1", "302", "0")
    finally:
        logger.removeHandler(handler)

    assert "SECRET" not in out.getvalue()
    assert "/oauth/constantcontact/callback/?code=[removed]&state=[removed]" in out.getvalue()


def test_gunicorns_access_log_has_no_query_string_and_no_referer():
    config = Config()
    config.set("access_log_format", gunicorn_conf.access_log_format)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": CALLBACK, "PATH_INFO": CALLBACK.split("?")[0],
        "QUERY_STRING": CALLBACK.split("?")[1], "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1", "HTTP_USER_AGENT": "Firefox",
        "HTTP_REFERER": f"https://ccadmin.example.com{CALLBACK}",
    }
    response = SimpleNamespace(status="302 Found", sent=0, headers=[])
    atoms = Logger(config).atoms(response, SimpleNamespace(headers=[]), environ,
                                 timedelta(milliseconds=5))

    line = gunicorn_conf.access_log_format % atoms

    assert gunicorn_conf.accesslog == "-"
    assert '"GET /oauth/constantcontact/callback/ HTTP/1.1" 302 0 "Firefox"' in line
    assert "SECRET" not in line
