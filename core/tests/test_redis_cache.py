"""The shared cache as production runs it (CACHE_URL=redis://…): page cache, invalidation, rate limits.

Several app servers share one Redis; per-process memory (the development default) would let each
server cache and count on its own. Uses a Redis database of its own per test worker, emptied first.
"""

import os

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from core.ratelimit import retry_after

pytestmark = pytest.mark.django_db

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def redis_cache(settings):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0"
    database = 10 + int(worker) % 5  # 10-14: out of the way of a development Redis's database 0
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"{REDIS}/{database}"}}
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


def test_the_page_cache_lives_in_redis_and_a_change_invalidates_it(client, territory, firm, redis_cache):
    url = "/milano/organizzazioni/?q=officine"
    with CaptureQueriesContext(connection) as cold:
        first = client.get(url)
    with CaptureQueriesContext(connection) as warm:
        again = client.get(url)
    assert len(cold.captured_queries) > 0 and len(warm.captured_queries) == 0
    assert again.content == first.content
    assert any(key for key in redis_cache._cache.get_client().keys("*public-page*"))
    firm.name = "Officine Rinnovate"
    firm.save()
    assert "Officine Rinnovate" in client.get(url).content.decode()


def test_rate_limits_count_in_redis_across_app_servers(client, territory, redis_cache, settings):
    settings.RATELIMIT_ENABLED = True
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9")
    assert retry_after(request, scope="test", limit=2, period=60) is None
    # Another app server: its own client on the same Redis sees the same counter.
    other_server = RedisCache(settings.CACHES["default"]["LOCATION"], {})
    [key] = [k.decode().split(":", 2)[-1] for k in redis_cache._cache.get_client().keys("*rl:test:*")]
    assert other_server.get(key) == 1
    other_server.incr(key)
    assert retry_after(request, scope="test", limit=2, period=60) > 0  # the third request overall
