"""Authenticator apps: TOTP (RFC 6238), six digits every 30 seconds.

Threats, and what stops them:

- code replay (a code seen over a shoulder, in a proxy log, or typed twice): the time
  step of every accepted code is stored, and a code of that step or an older one is
  refused; the check and the write are one ``UPDATE ... WHERE last_used_step < step``,
  so two requests with the same code cannot both win;
- a copy of the database: the secret is stored encrypted (secret_box.py);
- guessing: six digits and a window of three steps give 3 in a million per guess;
  guesses are capped per half-signed-in state, per account and per sign-in
  (pending.py, app/rate_limits.py).

The clock is ``app.clock.utcnow``, so tests move time without sleeping.
"""

import hmac

import pyotp
import segno
from flask import current_app
from sqlalchemy import update

from .. import clock
from ..extensions import db
from . import secret_box
from .models import Authenticator

# One step before and after the current one: a phone's clock a little off, or a
# code typed as it changed.
VALID_WINDOW = 1


def new_secret():
    """160 random bits, base32, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def provisioning_uri(secret, username):
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=current_app.config["SITE_NAME"])


def qr_svg(uri, title):
    """The QR code of ``uri`` as inline SVG markup: the CSP allows no data: images.

    Presentation attributes only (no ``style``), so ``style-src 'self'`` holds too.
    """
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", svgclass="qr", title=title)


def matching_step(secret, code):
    """The time step whose code is ``code`` (within the window), or ``None``."""
    if not isinstance(code, str):
        return None
    # Apps show the code in two groups ("123 456"); people copy the space, or type a dash.
    code = "".join(char for char in code if not char.isspace() and char != "-")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(clock.utcnow())
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enable(user_id, secret, step):
    """Store the authenticator whose first code (of ``step``) the owner just typed."""
    db.session.add(Authenticator(user_id=user_id, encrypted_secret=secret_box.encrypt(secret), last_used_step=step))


def use_code(authenticator, code):
    """True if ``code`` is valid now and was never accepted before; it is then used up.

    The caller commits.
    """
    secret = secret_box.decrypt(authenticator.encrypted_secret)
    step = matching_step(secret, code)
    if step is None:
        return False
    values = {"last_used_step": step}
    if secret_box.needs_reencryption(authenticator.encrypted_secret):
        values["encrypted_secret"] = secret_box.encrypt(secret)
    used = db.session.execute(
        update(Authenticator)
        .where(Authenticator.user_id == authenticator.user_id, Authenticator.last_used_step < step)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return used == 1
