"""The one way the hotline's processes connect to Redis.

A blocking pool: with hundreds of concurrent calls in one process, a command waits for a
free connection instead of failing with "Too many connections".
"""

from __future__ import annotations

import redis.asyncio as aioredis

MAX_CONNECTIONS = 64
WAIT_FOR_CONNECTION_S = 10.0


def redis_client(url: str) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=WAIT_FOR_CONNECTION_S,
        health_check_interval=10)
    return aioredis.Redis(connection_pool=pool)
