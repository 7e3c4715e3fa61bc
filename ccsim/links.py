"""An email's links as the tracking and link reports name them.

Both delivery (which makes the clicks) and the reports resources (which list
each link, clicked or not) need these; they live here, below both, so neither
imports the other.
"""
from __future__ import annotations

import re
import zlib


def links_of(html: str) -> list:
    """The email's distinct http(s) links, in order (what the link report lists)."""
    urls = re.findall(r'href=["\'](https?://[^"\']+)["\']', html or "")
    return list(dict.fromkeys(urls)) or ["https://www.example.com/"]


def url_id_of(url: str) -> str:
    return str(10_000_000_000 + zlib.crc32(url.encode()))
