"""Whom a per-address rate limit counts: the client's IPv4 address, or its IPv6 /64.

Threat: one host dodging the per-address limits with IPv6. Providers give each
customer at least a /64 network, 2^64 addresses; counted one by one, each of them
would get its own budget of guesses and sign-ups. So an IPv6 client is counted by
its /64 and an IPv4 client by its address. An IPv6 address that only carries an IPv4
client's address (IPv4-mapped, or a NAT64 gateway's 64:ff9b::/96) counts as that IPv4
address: behind such a gateway every IPv4 client shares one /64, and one of them
must not use up everyone's budget.
"""

import ipaddress

from flask import request

IPV6_NETWORK_PREFIX = 64
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


def client_network():
    # remote_addr is the TCP peer, or what a configured ProxyFix set from the
    # trusted proxies' X-Forwarded-For: never a header the client chose.
    address = request.remote_addr or "127.0.0.1"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip in NAT64_PREFIX:
        return str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return str(ipaddress.ip_network((ip, IPV6_NETWORK_PREFIX), strict=False))
