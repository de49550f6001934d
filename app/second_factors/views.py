"""The second-factor step of sign-in, re-authentication by code, and the account page.

Every POST is CSRF-checked by CSRFProtect. Adding the app, removing it and making
new recovery codes need a recent re-authentication (app/sudo.py).
"""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from .. import account_throttle, rate_limits, recovery, security_log, sign_ins, sudo
from ..account.forms import ActionForm
from ..auth.forms import ReauthForm
from ..extensions import db
from ..models import User
from ..redirects import safe_next_path
from . import enabled_for, pending, recovery_codes, remove_all, secret_box, totp, use_code
from .forms import CodeForm, SetupForm
from .models import Authenticator

bp = Blueprint("second_factors", __name__)

# The secret of an app being set up, encrypted, until its first code confirms it.
SETUP_KEY = "_authenticator_setup"


@bp.route("/auth/second-factor", methods=["GET", "POST"])
@rate_limits.failed_logins
def step():
    """The one page the half-signed-in state can see: the code, then the sign-in."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    state = pending.current()
    user = db.session.get(User, state.user_id) if state else None
    if user is None:
        pending.discard()
        flash(_("Your sign-in was not finished in time. Please sign in again."), "info")
        return redirect(url_for("auth.login"), 303)
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("second_factors/step.html", form=form), 400 if form.errors else 200
    # Every code counts against the account, like a password: tabs and addresses add up.
    bucket = account_throttle.take_attempt(user.username, user)
    factor = use_code(user.id, form.code.data)
    if factor is None:
        security_log.record("second_factor_failed", user_id=user.id)
        if not pending.count_failure():
            return render_template("second_factors/step.html", form=None), 401
        form.code.errors.append(_("That code is not right, or it has been used already."))
        return render_template("second_factors/step.html", form=form), 401
    if not pending.take():
        # Another tab finished this sign-in a moment ago, or it timed out meanwhile.
        return redirect(url_for("auth.login"), 303)
    account_throttle.forget_attempts(bucket)
    account_throttle.take_successful_sign_in(user)
    record = sign_ins.sign_in(
        user, remember=state.remember, password_version=state.password_version, second_factor=factor
    )
    security_log.record(
        "login_succeeded", user_id=user.id, sign_in=record.id, remember=record.remember, second_factor=factor
    )
    recovery.after_sign_in(user, record)
    response = redirect(safe_next_path(state.next_path) or url_for("dashboard.index"), 303)
    account_throttle.remember_device(response, user, password_version=record.password_version)
    return response


@bp.post("/auth/reauth/code")
@login_required
@rate_limits.password_checks
def reauth_with_code():
    """Re-authentication with a code instead of the password, where the account has an app."""
    next_path = safe_next_path(request.args.get("next")) or url_for("dashboard.index")
    form = CodeForm()
    if not form.validate_on_submit():
        return _reauth_page(form), 400
    factor = use_code(current_user.id, form.code.data)
    if factor is None:
        security_log.record("reauth_failed", user_id=current_user.id, second_factor=True)
        form.code.errors.append(_("That code is not right, or it has been used already."))
        return _reauth_page(form), 401
    # A privilege change, as with the password: a new session id.
    sign_ins.renew_session_id()
    sudo.mark_password_confirmed()
    security_log.record("reauthenticated", user_id=current_user.id, second_factor=factor)
    return redirect(next_path, 303)


def _reauth_page(code_form):
    return render_template("auth/reauth.html", form=ReauthForm(formdata=None), code_form=code_form)


@bp.get("/account/second-factor")
@login_required
def overview():
    return render_template(
        "second_factors/overview.html",
        authenticator=db.session.get(Authenticator, current_user.id),
        codes_left=recovery_codes.remaining(current_user.id),
        action_form=ActionForm(),
    )


@bp.route("/account/second-factor/app", methods=["GET", "POST"])
@login_required
@sudo.reauth_required(return_to="second_factors.overview")
@rate_limits.password_checks
def add_app():
    """Set up an authenticator app: scan, type its first code, get the recovery codes."""
    if enabled_for(current_user.id):
        return redirect(url_for("second_factors.overview"), 303)
    secret = _setup_secret()
    if secret is None:
        # A POST without a secret being set up (it expired with the session): start over.
        return redirect(url_for("second_factors.add_app"), 303)
    form = SetupForm()
    if form.validate_on_submit():
        step = totp.matching_step(secret, form.code.data)
        if step is not None:
            return _enable(secret, step)
        form.code.errors.append(_("That code is not right. Check the time on your phone and try the next one."))
    uri = totp.provisioning_uri(secret, current_user.username)
    page = render_template(
        "second_factors/add_app.html",
        form=form,
        secret=secret,
        qr=totp.qr_svg(uri, title=_("QR code for your authenticator app")),
    )
    return page, 400 if form.errors else 200


def _setup_secret():
    """The secret being set up in this session: kept on GET, made on the first GET."""
    encrypted = session.get(SETUP_KEY)
    if isinstance(encrypted, str):
        try:
            return secret_box.decrypt(encrypted)
        except secret_box.UndecryptableSecret:
            pass
    if request.method != "GET":
        return None
    secret = totp.new_secret()
    session[SETUP_KEY] = secret_box.encrypt(secret)
    return secret


def _enable(secret, step):
    totp.enable(current_user.id, secret, step)
    codes = recovery_codes.replace_all(current_user.id)
    try:
        db.session.commit()
    except IntegrityError:
        # The same form sent twice at once: the first one set it up.
        db.session.rollback()
        return redirect(url_for("second_factors.overview"), 303)
    session.pop(SETUP_KEY, None)
    # This sign-in has just shown the factor, and its row says so: its remember cookie
    # may restore it. A new token, so that a copy of this browser's cookies taken
    # before (which skipped the factor) dies.
    sign_ins.renew_current_sign_in(second_factor="totp")
    security_log.record("second_factor_added", user_id=current_user.id)
    return render_template("second_factors/recovery_codes.html", codes=codes, first=True)


@bp.post("/account/second-factor/app/remove")
@login_required
@sudo.reauth_required(return_to="second_factors.overview")
def remove_app():
    """Turn the second factor off; every other sign-in ends.

    Threat: someone holding another of the account's sessions, or a copy of its
    cookies, who may have added or seen the factor being changed: whatever they hold
    is ended, and this device gets a new token and session id.
    """
    if not enabled_for(current_user.id):
        return redirect(url_for("second_factors.overview"), 303)
    remove_all(current_user.id)
    db.session.commit()
    ended = sign_ins.end_all_for(current_user, keep=current_user.sign_in)
    sign_ins.renew_current_sign_in()
    security_log.record("second_factor_removed", user_id=current_user.id, other_sessions_ended=ended)
    flash(_("The authenticator app is removed. Every other session has been signed out."), "success")
    return redirect(url_for("second_factors.overview"), 303)


@bp.post("/account/second-factor/recovery-codes")
@login_required
@sudo.reauth_required(return_to="second_factors.overview")
def regenerate_codes():
    """Ten new recovery codes; the old ones stop working."""
    if not enabled_for(current_user.id):
        return redirect(url_for("second_factors.overview"), 303)
    codes = recovery_codes.replace_all(current_user.id)
    db.session.commit()
    security_log.record("recovery_codes_regenerated", user_id=current_user.id)
    return render_template("second_factors/recovery_codes.html", codes=codes, first=False)
