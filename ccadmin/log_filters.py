"""Logging filters that keep secrets out of the logs we write.

Constant Contact's OAuth redirect brings the authorization code and our state
in the query string (GET /oauth/constantcontact/callback/?code=...&state=...).
Whoever reads a log must not be able to replay them, so request lines lose
those values before they are written: the development server's log
(`django.server`, wired in settings.LOGGING) and, in production, gunicorn's
access log, whose format leaves out the query altogether (ccadmin/gunicorn_conf.py).
"""

import logging
import re
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset({"code", "state"})
REDACTED = "[removed]"

# A query string inside a logged request line: from "?" to a space or a quote.
_QUERY = re.compile(r"\?([^\s\"]*)")


def _redacted_query(match: re.Match) -> str:
    pairs = []
    for pair in match.group(1).split("&"):
        name, separator, _ = pair.partition("=")
        # Compared decoded, as Django reads it: "%63ode" is "code" too.
        if unquote_plus(name) in SECRET_PARAMETERS:
            pair = f"{name}={REDACTED}"
        pairs.append(pair)
    return "?" + "&".join(pairs)


def redact(text: str) -> str:
    """`text` with the values of secret query parameters replaced."""
    return _QUERY.sub(_redacted_query, text) if "?" in text else text


class RedactOAuthQuery(logging.Filter):
    """Blank the OAuth code and state in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
