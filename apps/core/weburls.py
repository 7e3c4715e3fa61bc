"""Links to the outside world taken from upstream data: only http and https.

Text that Constant Contact (or whoever typed it there) chose ends up in an
`href`; a `javascript:` or `data:` URL there would run in our origin if the CSP
ever let it. Anything but an absolute http(s) URL becomes no link at all.
"""

def web_url(value) -> str:
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""
