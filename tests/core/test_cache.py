"""The cache backend: Redis as usual, and a Redis outage reads as an empty cache —
answered at once, logged once in a while — instead of an exception."""

import logging

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
import pytest

from apps.core import cache as resilient


def test_it_is_an_ordinary_redis_cache_while_redis_answers():
    cache.set("answer", 42, 60)
    assert cache.get("answer") == 42
    assert cache.add("answer", 43) is False
    assert cache.incr("answer") == 43
    cache.delete("answer")
    assert cache.get("answer", "gone") == "gone"


def test_while_redis_is_down_every_operation_answers_as_an_empty_cache(redis_down):
    assert cache.get("key", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("key") is False
    assert cache.add("key", 1) is True  # nothing was there
    cache.set("key", 1)
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]  # the keys not stored
    assert cache.delete("key") is False
    cache.delete_many(["a", "b"])
    assert cache.touch("key") is False
    assert cache.get_or_set("key", lambda: "computed") == "computed"
    with pytest.raises(ValueError):
        cache.incr("key")  # as for any missing key


def test_it_logs_the_outage_once_and_leaves_redis_alone_for_a_few_seconds(
    redis_down, caplog, monkeypatch
):
    tries = []
    real_get = RedisCacheClient.get

    def counting_get(self, key, default):
        tries.append(key)
        return real_get(self, key, default)

    monkeypatch.setattr(RedisCacheClient, "get", counting_get)
    clock = [1000.0]
    monkeypatch.setattr(resilient, "_clock", lambda: clock[0])

    with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
        for _ in range(10):
            cache.get("key")
        clock[0] += resilient.RETRY_AFTER_SECONDS
        cache.get("key")  # tries Redis again, fails again: still no new log line

    assert len(tries) == 2
    assert len(caplog.records) == 1
    assert "Redis did not answer" in caplog.records[0].getMessage()
