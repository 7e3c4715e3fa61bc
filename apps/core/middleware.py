"""A guard that no workspace page can ship without the access check.

Every URL that names a workspace must be served by a view wrapped in
`apps.accounts.access.workspace_view`; a view that forgot it fails closed here.
"""

from django.core.exceptions import PermissionDenied


class WorkspaceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.workspace = None
        request.membership = None
        request.role = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if "workspace_slug" in view_kwargs and not hasattr(view_func, "access_rule"):
            raise PermissionDenied("This page has no access rule.")
        return None
