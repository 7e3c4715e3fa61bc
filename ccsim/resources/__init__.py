"""Resource handlers for /v3, one module per endpoint family.

Every handler has the signature ``handler(req: ccsim.web.Request) -> Response``
and runs while holding ``req.state.lock``.  Routes and scopes: ``ccsim.routes``.
"""
