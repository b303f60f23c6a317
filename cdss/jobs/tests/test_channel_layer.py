"""The Redis channel layer as production configures it (config/settings/base.py, REDIS_URL set).

channels_redis waits for a socket's next message with a blocking pop that Redis ends after
``brpop_timeout`` (5) seconds. redis-py 8 gives every connection a 5-second read timeout by
default, so an idle socket's wait fails with ``TimeoutError`` about every other time: the
consumer crashes, the client reconnects, and events sent meanwhile are lost. The read timeout
must be longer than the blocking pop; none at all (redis-py 7's default, which channels_redis
was written for) is best, since a finite one also holds a closing socket until it runs out.
"""

from __future__ import annotations

import os
import runpy

from channels_redis.core import RedisChannelLayer
from django.conf import settings

REDIS = os.environ.get("CDSS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_an_idle_socket_outwaits_the_blocking_pop(monkeypatch):
    monkeypatch.setenv("REDIS_URL", REDIS)
    production = runpy.run_path(str(settings.BASE_DIR / "config" / "settings" / "base.py"))
    default = production["CHANNEL_LAYERS"]["default"]
    assert default["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    layer = RedisChannelLayer(**default["CONFIG"])
    pool = layer.create_pool(0)
    read_timeout = pool.connection_class(**pool.connection_kwargs).socket_timeout
    assert read_timeout is None or read_timeout > layer.brpop_timeout
