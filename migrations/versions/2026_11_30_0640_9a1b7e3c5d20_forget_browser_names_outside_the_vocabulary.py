"""Forget browser names outside the vocabulary

Revision ID: 9a1b7e3c5d20
Revises: 4c9e2f7a1d3b
Created: 2026-11-30 06:40:00

Data only. Before this release, the browser name stored with a sign-in or a security
event was whatever family ua-parser found in the User-Agent header, which an attacker
writes: "Your account is locked call 555-0100 Bot 1" could sit on the owner's activity
page. New rows keep only families from a fixed list (app/user_agents.py); this
revision gives old rows the same treatment, setting any other name to NULL ("Unknown
browser"). The lists are copied here as they were at this revision, so that later
changes to the app's lists do not change what this revision did. Nothing to undo.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "9a1b7e3c5d20"
down_revision = "4c9e2f7a1d3b"
branch_labels = None
depends_on = None

BROWSERS = (
    "Chrome|Chrome Mobile|Chrome Mobile iOS|Chrome Mobile WebView|Chromium|HeadlessChrome|Edge|Edge Mobile|"
    "Firefox|Firefox Mobile|Firefox iOS|Safari|Mobile Safari|Mobile Safari UI/WKWebView|Opera|Opera Mobile|"
    "Samsung Internet|Vivaldi|Yandex Browser|Brave|DuckDuckGo Mobile"
)
SYSTEMS = "Windows|Mac OS X|iOS|iPadOS|Android|Linux|Chrome OS|Ubuntu|Fedora"
KNOWN = re.compile(rf"(?:{BROWSERS})(?: \d{{1,4}})?(?: \((?:{SYSTEMS})\))?")


def upgrade():
    connection = op.get_bind()
    for name in ("sign_ins", "security_events"):
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("client", sa.String))
        rows = connection.execute(sa.select(table.c.id, table.c.client).where(table.c.client.is_not(None)))
        unknown = [row_id for row_id, client in rows if not KNOWN.fullmatch(client)]
        if unknown:
            connection.execute(table.update().where(table.c.id.in_(unknown)).values(client=None))


def downgrade():
    pass  # the forgotten names are gone; the schema is unchanged
