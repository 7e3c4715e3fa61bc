"""Pragmatic response validation against the CC V3 Swagger 2.0 spec.

Loads the vendored spec (ccsim/spec/, PyYAML) once
and checks a JSON body against the schema the spec declares for
(path, method, status): required properties, property types, array items,
``$ref`` resolution into ``definitions``.  Not a full JSON-schema validator:
formats, maxLength, enums and additionalProperties are not checked.
"""
from __future__ import annotations

import functools

from ccsim.spec import SPEC_PATH

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


@functools.lru_cache(maxsize=1)
def spec() -> dict:
    import yaml
    try:
        loader = yaml.CSafeLoader
    except AttributeError:
        loader = yaml.SafeLoader
    with open(SPEC_PATH, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


def resolve(schema: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = spec()["definitions"][name]
    return schema


def response_schema(path: str, method: str, status: int) -> dict | None:
    """``path`` is the spec's template without /v3, e.g. '/contacts/{contact_id}'."""
    op = spec()["paths"][path][method.lower()]
    resp = op["responses"].get(str(status))
    if resp is None:
        raise AssertionError(f"spec declares no {status} response for {method.upper()} {path}")
    return resp.get("schema")


def validate(data, schema, where: str = "$") -> list[str]:
    """Return a list of problems (empty when the data fits the schema)."""
    schema = resolve(schema)
    if not schema:
        return []
    errors: list[str] = []
    t = schema.get("type") or ("object" if "properties" in schema else None)
    if data is None:
        return [] if schema.get("x-nullable") else [f"{where}: null where {t or 'value'} expected"]
    if t == "integer":
        if isinstance(data, bool) or not isinstance(data, int):
            errors.append(f"{where}: expected integer, got {type(data).__name__}")
        return errors
    if t == "number":
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            errors.append(f"{where}: expected number, got {type(data).__name__}")
        return errors
    if t in _TYPES and not isinstance(data, _TYPES[t]):
        return [f"{where}: expected {t}, got {type(data).__name__}"]
    if t == "array":
        for i, item in enumerate(data):
            errors += validate(item, schema.get("items", {}), f"{where}[{i}]")
    elif t == "object":
        for req in schema.get("required", []):
            if req not in data:
                errors.append(f"{where}: missing required property {req!r}")
        for k, sub in (schema.get("properties") or {}).items():
            if k in data:
                errors += validate(data[k], sub, f"{where}.{k}")
    return errors


def assert_matches(resp, path: str, method: str = "get"):
    """Assert a requests.Response body matches the spec schema for its status."""
    schema = response_schema(path, method, resp.status_code)
    if schema is None:
        return
    problems = validate(resp.json(), schema)
    assert not problems, f"{method.upper()} {path} -> {resp.status_code} violates spec:\n" + "\n".join(problems[:20])
