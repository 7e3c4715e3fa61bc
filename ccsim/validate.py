"""Small request-validation helpers producing CC-style 400 errors."""
from __future__ import annotations

import re
import uuid

from .errors import bad_request

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def req_field(body: dict, name: str, where: str = ""):
    v = body.get(name)
    if v is None or v == "" or v == []:
        raise bad_request(f"{where}{name} is required.", "api.validation.required")
    return v


def opt_str(body: dict, name: str, max_len: int | None = None, where: str = "", min_len: int = 0):
    v = body.get(name)
    if v is None:
        return None
    if not isinstance(v, str):
        raise bad_request(f"{where}{name} must be a string.")
    if max_len is not None and len(v) > max_len:
        raise bad_request(f"{where}{name} exceeds the maximum length of {max_len}.", "api.validation.length")
    if len(v) < min_len:
        raise bad_request(f"{where}{name} must be at least {min_len} characters.", "api.validation.length")
    return v


def req_str(body: dict, name: str, max_len: int | None = None, where: str = ""):
    req_field(body, name, where)
    return opt_str(body, name, max_len, where, 1)


def opt_int(body: dict, name: str, lo=None, hi=None, where: str = ""):
    v = body.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise bad_request(f"{where}{name} must be an integer.")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise bad_request(f"{where}{name} must be between {lo} and {hi}.", "api.validation.range")
    return v


def opt_bool(body: dict, name: str, where: str = ""):
    v = body.get(name)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise bad_request(f"{where}{name} must be a boolean.")
    return v


def opt_list(body: dict, name: str, max_items: int | None = None, where: str = "", min_items: int = 0):
    v = body.get(name)
    if v is None:
        return None
    if not isinstance(v, list):
        raise bad_request(f"{where}{name} must be an array.")
    if max_items is not None and len(v) > max_items:
        raise bad_request(f"{where}{name} exceeds the maximum of {max_items} items.", "api.validation.max_items")
    if len(v) < min_items:
        raise bad_request(f"{where}{name} requires at least {min_items} item(s).", "api.validation.min_items")
    return v


def enum(value, allowed, name: str):
    if value is not None and value not in allowed:
        raise bad_request(f"{name} must be one of: {', '.join(allowed)}.", "api.validation.enum")
    return value


def is_uuid(v) -> bool:
    try:
        uuid.UUID(str(v))
        return True
    except ValueError:
        return False


def uuid_list(values, name: str):
    for v in values:
        if not isinstance(v, str) or not is_uuid(v):
            raise bad_request(f"{name} contains an invalid id: {v!r}.", "api.validation.format")
    return values


def email(value: str, name="email_address"):
    if not isinstance(value, str) or not EMAIL_RE.match(value):
        raise bad_request(f"{name} is not a valid email address.", "api.validation.format")
    return value
