"""The dashboard: who is signed in, and what the server knows about this session."""

import hashlib

from flask import Blueprint, current_app, render_template, session
from flask_login import current_user, login_required

from .. import sign_ins, sudo

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def index():
    record = current_user.sign_in
    config = current_app.config
    return render_template(
        "dashboard.html",
        sign_in=record,
        idle_deadline=sign_ins.idle_deadline(record),
        idle_minutes=int(config["IDLE_TIMEOUT"].total_seconds() // 60),
        recently_confirmed=sudo.password_recently_confirmed(),
        reauth_minutes=int(config["REAUTH_WINDOW"].total_seconds() // 60),
        # A short hash shows that the cookie is an opaque id without printing it. A tab
        # served while another restores the sign-in has no session of its own yet.
        session_id_hash=hashlib.sha256(session.sid.encode()).hexdigest()[:8] if session.stored else None,
        session_keys=sorted(key for key in session if key != "_permanent"),
    )
