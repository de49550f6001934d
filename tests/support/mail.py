"""The messages an app under test sent, and the links in them."""

import re
from urllib.parse import parse_qs, urlsplit


class Mailbox:
    """Every message the app handed to its mail backend (``locmem`` under tests).

    Reading waits for the background sender first, so a test sees exactly what the
    requests before it queued.
    """

    def __init__(self, app):
        self.app = app

    def wait(self):
        """Until the sender has run every job queued so far."""
        self.app.extensions["mail_sender"].wait_until_idle()

    @property
    def messages(self):
        self.wait()
        return list(getattr(self.app.extensions["mailman"], "outbox", []))

    def to(self, address):
        return [message for message in self.messages if address in message.to]

    def last(self, address):
        messages = self.to(address)
        assert messages, f"no message to {address}"
        return messages[-1]


def links(message, base_url="https://sessions.example"):
    """Every link in the plain-text part, as the path and query to request."""
    found = re.findall(re.escape(base_url) + r"(/\S*)", message.body)
    return found


def link(message, path_prefix, base_url="https://sessions.example"):
    """The one link to ``path_prefix`` in ``message``, as the path and query to request."""
    matching = [found for found in links(message, base_url) if urlsplit(found).path == path_prefix]
    assert len(matching) == 1, (path_prefix, message.body)
    return matching[0]


def html_links(message):
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return re.findall(r'href="([^"]+)"', html)


def token_of(path):
    return parse_qs(urlsplit(path).query)["token"][0]


def press(client, path, **fields):
    """Open an emailed link (GET), then press the button on its page (POST, with its tokens)."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    data = dict(
        re.findall(r'<input id="(?:csrf_token|token)" name="(csrf_token|token)" type="hidden" value="([^"]*)"', html)
    )
    data.update(fields)
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
    return client.post(action, data=data)


def sign_up(client, username="alice", address="alice@example.org", password="correct horse battery"):
    """Sign up through the form, with an address."""
    form = client.get("/auth/register").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    data = {"username": username, "password": password, "confirm": password, "email": address, "csrf_token": token}
    response = client.post("/auth/register", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def sign_up_and_confirm(client, mailbox, username="alice", address="alice@example.org"):
    """A new account whose address is confirmed through the link sent to it."""
    sign_up(client, username, address)
    response = press(client, link(mailbox.last(address), "/email/confirm"))
    assert response.status_code == 200
