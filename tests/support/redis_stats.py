"""Commands counted by Redis itself (INFO commandstats), on one server or a whole Cluster.

A RedisCluster client sends INFO and CONFIG RESETSTAT to one node of its choice unless
told otherwise; the key a test writes may live on another. These ask every primary.
"""

from redis.cluster import RedisCluster


def _servers(client):
    """``[(client, target_nodes)]``: the one server, or every primary of a Cluster."""
    if isinstance(client, RedisCluster):
        return [(client, node) for node in client.get_primaries()]
    return [(client, None)]


def reset_stats(client):
    for server, node in _servers(client):
        if node is None:
            server.config_resetstat()
        else:
            server.config_resetstat(target_nodes=node)


def calls(client, command):
    """How many times ``command`` (e.g. "set") ran since the last reset, on all servers."""
    total = 0
    for server, node in _servers(client):
        stats = server.info("commandstats") if node is None else server.info("commandstats", target_nodes=node)
        total += stats.get(f"cmdstat_{command}", {}).get("calls", 0)
    return total
