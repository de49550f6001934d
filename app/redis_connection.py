"""The Redis client, from REDIS_URL: a single server or a Sentinel-managed primary.

Both the session store and the rate limiter use it. Accepted forms:

- ``redis://[:password@]host:port/db`` (``rediss://`` for TLS, ``unix://`` for a socket)
- ``redis+sentinel://[:password@]host:port[,host:port...]/service_name``: ask the
  sentinels which server is the primary, and ask again after a failover.

Threat: an outage that turns into a pile-up. redis-py's default retries ten times
with backoff, holding every request for seconds while Redis is down; here one
immediate retry covers a pooled connection that went stale, then the request
fails fast and the user sees a 503 page.
"""

from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel"


def client_from_config(config):
    url = config["REDIS_URL"]
    options = _connection_options(config)
    if urlsplit(url).scheme == SENTINEL_SCHEME:
        sentinels, service_name, auth = parse_sentinel_url(url)
        timeouts = {key: options[key] for key in ("socket_connect_timeout", "socket_timeout")}
        sentinel = Sentinel(sentinels, sentinel_kwargs={**auth, **timeouts}, **auth, **options)
        # master_for returns a redis.Redis, which is what Flask-Session requires.
        return sentinel.master_for(service_name)
    return redis.Redis.from_url(url, **options)


def limiter_storage_options(config, client):
    """Options for Flask-Limiter's storage so it fails as fast as the sessions do."""
    url = config["RATELIMIT_STORAGE_URI"]
    if urlsplit(url).scheme == SENTINEL_SCHEME:
        # Count on the primary only: a replica may lag behind and under-count.
        return {**_connection_options(config), "use_replicas": False}
    if url == config["REDIS_URL"]:
        # Same server: share the session client's pool, timeouts and retries.
        return {"connection_pool": client.connection_pool}
    # Its own server (RATE_LIMIT_REDIS_URL): its own pool, the same timeouts and retries.
    # Always a pool, never bare options: Flask-Limiter merges the options of every
    # init_app, so a pool left by an earlier app in the same process would win.
    return {"connection_pool": redis.ConnectionPool.from_url(url, **_connection_options(config))}


def parse_sentinel_url(url):
    """``redis+sentinel://:pw@h1:26379,h2:26379/name`` -> ([(h1, 26379), ...], name, auth)."""
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    auth = {}
    if credentials:
        username, _, password = credentials.partition(":")
        if username:
            auth["username"] = unquote(username)
        if password:
            auth["password"] = unquote(password)
    sentinels = []
    for host_port in hosts.split(","):
        host, _, port = host_port.rpartition(":")
        sentinels.append((host, int(port)))
    service_name = parts.path.strip("/")
    if not service_name:
        raise ValueError("a redis+sentinel:// URL needs the service name as its path")
    return sentinels, service_name, auth


def _connection_options(config):
    return {
        "socket_connect_timeout": config["REDIS_CONNECT_TIMEOUT"],
        "socket_timeout": config["REDIS_SOCKET_TIMEOUT"],
        "retry": Retry(NoBackoff(), config["REDIS_RETRIES"]),
        "health_check_interval": 30,
    }
