"""The Redis client, from REDIS_URL: a single server, a Sentinel-managed primary or a Cluster.

Both the session store and the rate limiter use it. Accepted forms (checked by
config.redis_url_problem when the app is made):

- ``redis://[:password@]host:port/db`` (``rediss://`` for TLS, ``unix://`` for a socket)
- ``redis+sentinel://[:password@]host:port[,host:port...]/service_name``: ask the
  sentinels which server is the primary, and ask again after a failover.
- ``redis+cluster://[:password@]host:port[,host:port...]``: a Redis Cluster, for
  when one primary's memory or command rate is not enough. The nodes named are
  where the client starts; it learns the rest, and which node serves which slot,
  from them. At least one must answer when a process starts.

Threat: an outage that turns into a pile-up. redis-py's default retries ten times
with backoff, holding every request for seconds while Redis is down; here one
immediate retry covers a pooled connection that went stale, then the request
fails fast and the user sees a 503 page. On a cluster that holds per node: a
request whose key lives on a stopped primary fails within milliseconds. The other
primaries go on serving their keys if the cluster runs with
``cluster-require-full-coverage no``; by default it refuses every command once it
has marked a primary as failed, until a replica takes over or the primary returns.

Keys on a cluster. A command or script that touches several keys works on a
cluster only if they share a hash slot (a common ``{hash tag}``). None of the app's
own commands does: a session is one key (``session:<sha256 of its id>``), read with
GET and written with SET NX/XX, deleted with one DEL each, even when all of a
user's sessions end at once (app/sessions.py). The rate limiter (limits 5.8) keeps
one list per limit and key with the moving-window strategy, and its Lua scripts
(moving_window, acquire_moving_window) touch only that one key; the sliding-window
strategy, not used here, puts its two keys under one hash tag itself. So nothing
needs to share a slot, and keys spread evenly over the primaries.
"""

from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import ClusterDownError, RedisClusterException, RedisError
from redis.retry import Retry
from redis.sentinel import Sentinel

from config import CLUSTER_SCHEME, SENTINEL_SCHEME, parse_node_list_url

# What a client raises when the store cannot serve a command. redis-py's cluster
# client raises RedisClusterException, which is no RedisError, when no node answers.
ERRORS = (RedisError, RedisClusterException)


def client_from_config(config):
    url = config["REDIS_URL"]
    scheme = urlsplit(url).scheme
    if scheme == SENTINEL_SCHEME:
        parsed = parse_node_list_url(url)
        options = _connection_options(config)
        timeouts = {key: options[key] for key in ("socket_connect_timeout", "socket_timeout")}
        sentinel = Sentinel(parsed.nodes, sentinel_kwargs={**parsed.auth, **timeouts}, **parsed.auth, **options)
        # master_for returns a redis.Redis, which is what Flask-Session requires.
        return sentinel.master_for(parsed.name)
    if scheme == CLUSTER_SCHEME:
        parsed = parse_node_list_url(url)
        startup_nodes = [ClusterNode(host, port) for host, port in parsed.nodes]
        return RedisCluster(startup_nodes=startup_nodes, **parsed.auth, **_cluster_options(config))
    return redis.Redis.from_url(url, **_connection_options(config))


def limiter_storage_options(config, client):
    """Options for Flask-Limiter's storage so it fails as fast as the sessions do."""
    url = config["RATELIMIT_STORAGE_URI"]
    scheme = urlsplit(url).scheme
    if scheme == SENTINEL_SCHEME:
        # Count on the primary only: a replica may lag behind and under-count.
        return {**_connection_options(config), "use_replicas": False}
    if scheme == CLUSTER_SCHEME:
        # limits makes a RedisCluster of its own from the URL (it cannot share one).
        # It passes the URL's password on still percent-encoded, so give it decoded.
        return {**parse_node_list_url(url).auth, **_cluster_options(config)}
    if url == config["REDIS_URL"]:
        # Same server: share the session client's pool, timeouts and retries.
        return {"connection_pool": client.connection_pool}
    # Its own server (RATE_LIMIT_REDIS_URL): its own pool, the same timeouts and retries.
    # Always a pool, never bare options: Flask-Limiter merges the options of every
    # init_app, so a pool left by an earlier app in the same process would win.
    return {"connection_pool": redis.ConnectionPool.from_url(url, **_connection_options(config))}


def ping(client):
    """Raise one of ``ERRORS`` unless the store serves commands.

    On a cluster, every primary is asked for its cluster state: a PING would reach
    one node only, which says nothing about the primaries that hold the other slots,
    and a primary that has just restarted answers PING but refuses every key
    (CLUSTERDOWN) for its first two seconds back.
    """
    if not isinstance(client, RedisCluster):
        client.ping()
        return
    for primary in client.get_primaries():
        if client.cluster_info(target_nodes=primary)["cluster_state"] != "ok":
            raise ClusterDownError(f"the primary {primary.name} does not serve its slots")


def _connection_options(config):
    return {
        "socket_connect_timeout": config["REDIS_CONNECT_TIMEOUT"],
        "socket_timeout": config["REDIS_SOCKET_TIMEOUT"],
        "retry": Retry(NoBackoff(), config["REDIS_RETRIES"]),
        "health_check_interval": 30,
    }


def _cluster_options(config):
    # RedisCluster retries at its own level, after reading the slot map again (its
    # per-node connections never retry). Of the Retry it uses only the count, never
    # the backoff; it waits 0.25 s only after a CLUSTERDOWN answer. It silently drops
    # health_check_interval, so none is given.
    return {
        "socket_connect_timeout": config["REDIS_CONNECT_TIMEOUT"],
        "socket_timeout": config["REDIS_SOCKET_TIMEOUT"],
        "retry": Retry(NoBackoff(), config["REDIS_RETRIES"]),
    }
