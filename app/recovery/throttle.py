"""Limits on password-reset messages per account, counted on the sender thread.

Per-address limits are decorators on the views (app/recovery/views.py); a limit per
account cannot be: the view must not look the account up (app/mail/sender.py says
why). A message over the limit is simply not sent, and the page said the same as
ever, so the limit tells nobody whether the account exists. (An address change is
asked for by a signed-in owner, who may be told: its limit is counted in the request,
app/recovery/addresses.py ``request_change``.)
"""

from flask import current_app
from limits import parse_many

from ..extensions import limiter


def allow(setting, namespace, account):
    """Count one message to ``account`` (its public id); False once ``setting``'s limit is reached."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    strategy = limiter.limiter
    return all(strategy.hit(item, namespace, account) for item in parse_many(current_app.config[setting]))
