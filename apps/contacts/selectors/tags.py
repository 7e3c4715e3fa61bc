"""Reads for the tags screens: the workspace's mirrored tags, one tag by id (404
for another workspace's), and how close the account is to Constant Contact's
500-tag limit. Nothing here calls Constant Contact.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import Workspace
from apps.contacts.selectors.lists import CollectionUsage
from apps.mirror.models import Tag

# Constant Contact allows at most 500 tags per account (contract §3.3; the
# simulator refuses the 501st). The warning starts at 450 so a team can tidy up
# before a create is refused.
MAX_TAGS = 500
TAGS_WARN_FROM = 450


def tag_rows(*, workspace: Workspace) -> QuerySet[Tag]:
    """Every mirrored tag of the workspace, by name."""
    return Tag.objects.filter(workspace=workspace).only(
        "id", "workspace_id", "cc_id", "name", "tag_source", "contacts_count",
        "updated_upstream", "delete_activity_id",
    )


def tag_for(*, workspace: Workspace, tag_id: int) -> Tag:
    """The workspace's tag `tag_id`; 404 for any other workspace's tag."""
    return get_object_or_404(Tag, pk=tag_id, workspace=workspace)


def tag_usage(*, workspace: Workspace) -> CollectionUsage:
    # A tag whose delete is pending still counts upstream until the activity finishes.
    used = Tag.objects.filter(workspace=workspace).count()
    return CollectionUsage(used=used, limit=MAX_TAGS, warn_from=TAGS_WARN_FROM)
