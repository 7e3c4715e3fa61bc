"""The overview costs a fixed number of queries, however much data there is: no
query per campaign, job, review or event (N+1), and the count stays put as
every table grows."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.dashboard.populate import populate

# Every card of an admin's overview, plus the session, the member and the navigation.
MAX_QUERIES = 40


def _queries(client, world) -> int:
    cache.clear()  # the contact counts are cached: count them every time here
    url = reverse("dashboard:home", kwargs={"workspace_slug": world.workspace.slug})
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_data(client, world, django_assert_max_num_queries):
    client.force_login(world.admin)
    populate(world, scale=1, contacts=20)
    small = _queries(client, world)

    populate(world, scale=3, contacts=20)
    large = _queries(client, world)

    assert large == small
    with django_assert_max_num_queries(MAX_QUERIES):
        cache.clear()
        client.get(reverse("dashboard:home", kwargs={"workspace_slug": world.workspace.slug}))
