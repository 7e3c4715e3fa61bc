"""Error types and CC error bodies.

Contract §2.4: ordinary errors are a JSON *array* of
``{"error_key", "error_message"}``; 401 and 429 are a single object.
OAuth endpoints use RFC 6749 ``{"error", "error_description"}`` instead.
"""
from __future__ import annotations


class ApiError(Exception):
    """Raised by handlers; the server renders it as a CC error array."""

    def __init__(self, status: int, error_key: str, error_message: str, headers=None):
        super().__init__(f"{status} {error_key}: {error_message}")
        self.status = status
        self.error_key = error_key
        self.error_message = error_message
        self.headers = headers or {}

    def body(self):
        return [{"error_key": self.error_key, "error_message": self.error_message}]


class ObjectError(ApiError):
    """An error whose body is a single object (401, 429; contract §2.4)."""

    def body(self):
        return {"error_key": self.error_key, "error_message": self.error_message}


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self):
        return {"error": self.error, "error_description": self.description}


def bad_request(msg: str, key: str = "api.validation.error") -> ApiError:
    return ApiError(400, key, msg)


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "api.not_found", f"The requested {what} was not found.")


def conflict(msg: str, key: str = "api.conflict") -> ApiError:
    return ApiError(409, key, msg)


def unauthorized(msg: str = "Unauthorized") -> ObjectError:
    # Contract §2.4: exact live body {"error_key":"unauthorized","error_message":"Unauthorized"}.
    return ObjectError(401, "unauthorized", msg, {"WWW-Authenticate": "Bearer realm=api.cc.email"})


def forbidden(msg: str) -> ApiError:
    return ApiError(403, "forbidden", msg)


THROTTLED = ("throttled", "Too Many Requests")          # contract §2.4 / §2.5
QUOTA_EXCEEDED = ("quota_exceeded", "Limit Exceeded")   # contract §2.4 / §2.5
