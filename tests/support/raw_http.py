"""Requests written byte by byte, for inputs that HTTP client libraries refuse to send.

``requests`` and ``http.client`` reject non-ASCII and control bytes in headers, so
hostile headers go out over a plain TLS socket instead, exactly as an attacker's
script would send them.
"""

import contextlib
import socket
import ssl
from typing import NamedTuple
from urllib.parse import urlsplit

TIMEOUT = 15


class RawResponse(NamedTuple):
    status: int  # 0 when the server closed the connection without answering
    head: bytes
    body: bytes


def send(url, ca_pem, request_bytes, hang_up=False):
    """Send ``request_bytes`` to the server of ``url`` (https) and read the whole answer.

    With ``hang_up`` the client closes the connection right after sending, as one that
    gave up halfway through a body does, and reads nothing (status 0).
    """
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=ca_pem)
    with (
        socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as plain,
        context.wrap_socket(plain, server_hostname=parts.hostname) as tls,
    ):
        # The server may answer early (a 413 before the whole body) and hang up.
        with contextlib.suppress(ssl.SSLError, BrokenPipeError, ConnectionResetError):
            tls.sendall(request_bytes)
        if hang_up:
            return RawResponse(0, b"", b"")
        received = b""
        try:
            while chunk := tls.recv(65536):
                received += chunk
        except (ssl.SSLError, ConnectionResetError):
            pass  # the server may cut the connection after its answer
    head, _, body = received.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split(b" ")
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    return RawResponse(status, head, body)


def request_bytes(method, path, host, headers=(), body=b""):
    """An HTTP/1.1 request that closes its connection; ``headers`` are (name, bytes) pairs."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + host.encode(), b"Connection: close"]
    lines += [name.encode() + b": " + value for name, value in headers]
    if body and not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
