"""The Redis clients made from REDIS_URL: what a cluster's clients are given, without a cluster.

The clients at work on a real three-primary cluster, outages included, are in
tests/integration/test_redis_cluster.py.
"""

import time

import pytest
from redis.exceptions import RedisClusterException

from app import redis_connection
from config import BaseConfig

CLUSTER_URL = "redis+cluster://:p%40ss%2Cw%3Ard@10.0.0.1:7000,10.0.0.2:7000"


def cluster_config(url=CLUSTER_URL, limits_url=None):
    settings = {name: getattr(BaseConfig, name) for name in dir(BaseConfig) if name.isupper()}
    return {**settings, "REDIS_URL": url, "RATELIMIT_STORAGE_URI": limits_url or url}


def test_the_limiter_on_a_cluster_gets_the_password_decoded_and_fails_as_fast_as_the_sessions():
    config = cluster_config()

    options = redis_connection.limiter_storage_options(config, client=None)

    # limits would pass the URL's password on as it stands, percent-encoded.
    assert options["password"] == "p@ss,w:rd"
    assert options["socket_connect_timeout"] == config["REDIS_CONNECT_TIMEOUT"]
    assert options["socket_timeout"] == config["REDIS_SOCKET_TIMEOUT"]
    assert options["retry"].get_retries() == config["REDIS_RETRIES"]
    # RedisCluster would drop it silently; no connection_pool either, limits makes its own client.
    assert "health_check_interval" not in options
    assert "connection_pool" not in options


def test_a_cluster_client_needs_one_node_that_answers_when_it_is_made():
    """It reads the slot map at once: a process started during a whole-cluster outage stops."""
    started = time.monotonic()
    # Nothing listens on port 1: each connection is refused at once.
    with pytest.raises(RedisClusterException, match="cannot be connected"):
        redis_connection.client_from_config(cluster_config("redis+cluster://127.0.0.1:1,127.0.0.1:2"))
    assert time.monotonic() - started < 2
