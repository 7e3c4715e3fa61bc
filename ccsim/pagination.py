"""Cursor helpers.  Contract §2.6: pagination differs per resource.

* contacts / tags (and, by assumption, lists, custom fields, activities,
  segments and reports): ``/v3/<path>?cursor=<std base64 of the original query
  string plus next=<position>>``.  Following the href alone must reproduce
  the filters, so the whole query is packed into the cursor.
* ``/emails``: ``/v3/emails?limit=N&next=<base64 of offset with '*' padding>``
  with the other parameters in clear.
Clients must treat hrefs as opaque.
"""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode

from .errors import bad_request


def encode_cursor(query: dict, position) -> str:
    """query: name -> list[str] (without cursor/next)."""
    items = [(k, v) for k, vals in sorted(query.items()) if k not in ("cursor", "next") for v in vals]
    items.append(("next", str(position)))
    return base64.b64encode(urlencode(items).encode()).decode()


def decode_cursor(cursor: str) -> tuple[dict, str]:
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), validate=False).decode()
        q = parse_qs(raw, keep_blank_values=True)
        pos = q.pop("next")[0]
    except Exception:
        raise bad_request("The cursor is invalid.", "api.invalid_cursor")
    return q, pos


def resolve_query(req) -> tuple[dict, str | None]:
    """Return (effective query, position) for a cursor-paged request."""
    cur = req.q("cursor")
    if not cur:
        return req.query, None
    q, pos = decode_cursor(cur)
    return q, pos


def next_link(path: str, query: dict, position) -> dict:
    return {"next": {"href": f"/v3/{path}?cursor={encode_cursor(query, position)}"}}


def emails_next_token(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().replace("=", "*")


def emails_decode_next(token: str) -> int:
    try:
        return int(base64.b64decode(token.replace("*", "=")).decode())
    except Exception:
        raise bad_request("The next parameter is invalid.", "api.invalid_cursor")


def page_items(req, path: str, items: list, default_limit: int, max_limit: int, min_limit: int = 1):
    """Offset-cursor paging over an already-filtered list.

    Must be called before reading other query parameters: a ``cursor`` replaces
    ``req.query`` with the original query it encodes.  Returns (page, links_or_None).
    """
    pos = 0
    if req.q("cursor"):
        q, p = decode_cursor(req.q("cursor"))
        req.query = q
        try:
            pos = int(p)
        except ValueError:
            raise bad_request("The cursor is invalid.", "api.invalid_cursor")
    limit = req.q_int("limit", default_limit, min_limit, max_limit)
    page = items(req) if callable(items) else items
    chunk = page[pos:pos + limit]
    links = next_link(path, req.query, pos + limit) if pos + limit < len(page) else None
    return chunk, links
