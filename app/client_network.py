"""Who the client is: one canonical address, and the network a rate limit counts.

Threats:

- one client split into many. Some proxies write the client's port into
  X-Forwarded-For (``198.51.100.8:40000``, ``[2001:db8::1]:443``); counted as written,
  every new port would be a new rate-limit bucket. ``canonical_address`` drops ports,
  brackets and zone ids and writes every address one way.
- a value that no address is (a misconfigured proxy, a header passed through
  unchecked). It becomes ``UNKNOWN_ADDRESS``: one shared bucket, logged, and never
  more than a few characters in a database column.
- one host dodging the per-address limits with IPv6. Providers give each customer at
  least a /64 network, 2^64 addresses; counted one by one, each of them would get its
  own budget. So ``client_network`` counts an IPv6 client by its /64 and an IPv4
  client by its address. An IPv6 address that only carries an IPv4 client's address
  (IPv4-mapped, a NAT64 gateway's 64:ff9b::/96, 6to4 or Teredo) counts as that IPv4
  address: behind such a gateway every IPv4 client shares one /64, and a 6to4 host
  would otherwise get a /48 of budgets next to its IPv4 one.
"""

import ipaddress
import re

from flask import request

IPV6_NETWORK_PREFIX = 64
# Wider IPv6 networks that the per-address limits also count, with larger budgets.
WIDER_IPV6_PREFIXES = (48, 32)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
UNKNOWN_ADDRESS = "unknown"
# "[v6]", "[v6]:port" or "v4:port"; the address is the first group that matched.
BRACKETED = re.compile(r"\[([^\]]*)\](?::\d{1,5})?")
IPV4_WITH_PORT = re.compile(r"([0-9.]+):\d{1,5}")


def canonical_address(value):
    """``"[2001:DB8::1]:443"`` -> ``"2001:db8::1"``; anything that is no address -> ``"unknown"``.

    ``value`` is a string (or ``None``) as a WSGI server or ProxyFix left it. IPv4-mapped
    IPv6 addresses come back as their IPv4 address. The result is at most 39 characters.
    """
    text = (value or "").strip()
    match = BRACKETED.fullmatch(text) or IPV4_WITH_PORT.fullmatch(text)
    if match:
        text = match.group(1)
    text = text.partition("%")[0]  # a zone id names an interface of the proxy, not the client
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return UNKNOWN_ADDRESS
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def client_network():
    """The rate-limit key of this request's client: ``"192.0.2.7"`` or ``"2001:db8::/64"``."""
    # remote_addr is already canonical (app.http_input): the TCP peer, or what a
    # configured ProxyFix took from the trusted proxies, never a header the client chose.
    address = request.remote_addr or UNKNOWN_ADDRESS
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip in NAT64_PREFIX:
        return str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    # 6to4 (2002::/16) and Teredo (2001::/32) carry the IPv4 host that sends them.
    if ip.sixtofour is not None:
        return str(ip.sixtofour)
    if ip.teredo is not None:
        return str(ip.teredo[1])
    return str(ipaddress.ip_network((ip, IPV6_NETWORK_PREFIX), strict=False))


def wider_ipv6_network(prefix):
    """This request's IPv6 client as its network of ``prefix`` bits, e.g. ``"2001:db8::/32"``.

    ``None`` for IPv4 clients (and IPv6 addresses that carry one), which
    ``client_network`` already counts one by one. Threat: a host with a /48 (65,536
    /64 networks) that takes a new /64 for every few guesses.
    """
    network = client_network()
    if ":" not in network:
        return None
    return str(ipaddress.ip_network(network, strict=False).supernet(new_prefix=prefix))
