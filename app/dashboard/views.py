"""The dashboard: who is signed in, and what the server knows about this session."""

import hashlib

from flask import Blueprint, render_template, session
from flask_login import current_user, login_required

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def index():
    record = current_user.current_sign_in
    return render_template(
        "dashboard.html",
        sign_in=record,
        # A short hash shows that the cookie is an opaque id without printing it.
        session_id_hash=hashlib.sha256(session.sid.encode()).hexdigest()[:8],
        session_keys=sorted(key for key in session.keys() if key != "_permanent"),
    )
