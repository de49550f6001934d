"""A mail catcher in the place of Mailpit: SMTP on 1025, a read-only inbox on 8025.

It keeps every message in memory and serves, like Mailpit: ``/`` (a plain list),
``GET /api/v1/messages`` (``{"total", "messages": [{"ID", "Subject", "To": [{"Address"}]}]}``)
and ``GET /api/v1/message/<ID>`` (``{"ID", "Subject", "Text", "HTML"}``). Nothing else.
"""

import email
import email.policy
import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

MESSAGES = []
LOCK = threading.Lock()


class Catcher:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {"text/plain": "", "text/html": ""}
        for part in message.walk():
            if part.get_content_type() in parts and not part.is_multipart():
                parts[part.get_content_type()] = part.get_content()
        with LOCK:
            MESSAGES.append(
                {
                    "ID": str(len(MESSAGES) + 1),
                    "Subject": str(message["Subject"] or ""),
                    "To": [{"Address": address} for address in envelope.rcpt_tos],
                    "Text": parts["text/plain"],
                    "HTML": parts["text/html"],
                }
            )
        return "250 Message accepted"


class Inbox(BaseHTTPRequestHandler):
    def do_GET(self):
        with LOCK:
            messages = list(MESSAGES)
        if self.path == "/api/v1/messages":
            summaries = [{key: entry[key] for key in ("ID", "Subject", "To")} for entry in reversed(messages)]
            self.answer(200, "application/json", json.dumps({"total": len(messages), "messages": summaries}))
        elif self.path.startswith("/api/v1/message/"):
            wanted = self.path.rsplit("/", 1)[1]
            found = [entry for entry in messages if entry["ID"] == wanted]
            if found:
                self.answer(200, "application/json", json.dumps(found[0]))
            else:
                self.answer(404, "text/plain", "no such message")
        elif self.path == "/":
            rows = "".join(f"<li>{html.escape(entry['Subject'])}</li>" for entry in reversed(messages))
            self.answer(200, "text/html; charset=utf-8", f"<!doctype html><title>Inbox</title><ul>{rows}</ul>")
        else:
            self.answer(404, "text/plain", "not found")

    def answer(self, status, content_type, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    # Every interface of the container: the app reaches it on the compose network, and
    # compose publishes the inbox on the host's loopback only.
    EVERY_INTERFACE = "0.0.0.0"  # noqa: S104
    smtp = Controller(Catcher(), hostname=EVERY_INTERFACE, port=1025)
    smtp.start()
    ThreadingHTTPServer((EVERY_INTERFACE, 8025), Inbox).serve_forever()
