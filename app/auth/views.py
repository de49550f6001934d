"""Views for signing up, in and out. Every POST is CSRF-checked by CSRFProtect."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from .. import (
    account_throttle,
    passwords,
    rate_limits,
    recovery,
    second_factors,
    security_log,
    sessions,
    sign_ins,
    sudo,
)
from ..extensions import csrf, db
from ..models import User
from ..redirects import safe_next_path
from ..second_factors.views import reauth_forms
from .forms import LoginForm, ReauthForm, RegisterForm, forget_unless_a_username

bp = Blueprint("auth", __name__, url_prefix="/auth")

INVALID_CREDENTIALS = _l("Invalid username or password.")


@bp.route("/register", methods=["GET", "POST"])
@rate_limits.registrations
def register():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        # Before the account exists: an outage must not leave a name taken and no session.
        sessions.ensure_store_reachable()
        user = User(username=form.username.data, password_hash=passwords.hash_password(form.password.data))
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            # The same name, registered by a request that passed the form check at the
            # same moment: the unique index decides, and this one gets the form's answer.
            db.session.rollback()
            form.username.errors.append(_("That username is taken."))
            return render_template("auth/register.html", form=form), 400
        security_log.record("user_registered", user_id=user.id)
        sign_ins.sign_in(user)
        flash(_("Welcome! Your account is ready."), "success")
        recovery.after_sign_up(user, form.email.data)
        response = redirect(url_for("dashboard.index"), 303)
        # The browser that made the account is a known device of it from the start.
        account_throttle.remember_device(response, user)
        return response
    forget_unless_a_username(form.username)
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@rate_limits.failed_logins
@rate_limits.successful_logins
def login():
    next_path = safe_next_path(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_path or url_for("dashboard.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        forget_unless_a_username(form.username)
        return render_template("auth/login.html", form=form, ended=session_ended_message()), 400 if form.errors else 200
    sessions.ensure_store_reachable()
    username, password = form.username.data, form.password.data
    user = User.find_by_username(username)
    # Read before the slow password check: a change that lands during it wins.
    password_version = user.password_version if user else None
    bucket = account_throttle.take_attempt(username, user)
    if not password_matches(user, username, password):
        form.form_errors.append(INVALID_CREDENTIALS)
        forget_unless_a_username(form.username)
        return render_template("auth/login.html", form=form), 401
    if second_factors.enabled_for(user.id):
        # Not signed in yet, and the account's attempts are not forgotten: the code counts too.
        return second_factors.begin_sign_in(user, form.remember.data, password_version, next_path)
    account_throttle.forget_attempts(bucket)
    account_throttle.take_successful_sign_in(user)
    record = sign_ins.sign_in(user, remember=form.remember.data, password_version=password_version)
    security_log.record("login_succeeded", user_id=user.id, sign_in=record.id, remember=record.remember)
    recovery.after_sign_in(user, record)
    response = redirect(next_path or url_for("dashboard.index"), 303)
    # The device cookie names the password this sign-in was checked with, like the sign-in.
    account_throttle.remember_device(response, user, password_version=record.password_version)
    return response


def session_ended_message():
    if not sign_ins.ended_without_sign_out():
        return None
    return ngettext(
        "Your session in this browser has ended. Sessions end after %(num)d minute of inactivity, "
        "or when they are signed out from another device.",
        "Your session in this browser has ended. Sessions end after %(num)d minutes of inactivity, "
        "or when they are signed out from another device.",
        int(current_app.config["IDLE_TIMEOUT"].total_seconds() // 60),
    )


@bp.post("/logout")
@csrf.exempt  # checked in the view, with one exception (check_sign_out_form)
def logout():
    check_sign_out_form()
    if current_user.is_authenticated:
        security_log.record("logout", user_id=current_user.id, sign_in=current_user.sign_in.id)
    # No flash message here: it would set a visitor's cookie right after this session
    # ended. The confirmation rides in the address instead (templates/index.html).
    response = redirect(url_for("main.index", signed_out=1), 303)
    sign_ins.sign_out(response)
    # Ask the browser to drop cached pages and storage. Not "cookies": ours are
    # deleted one by one above, and the device cookie must stay (account_throttle).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@rate_limits.password_checks
def reauth():
    """Confirm the password before a sensitive action, then go back to it."""
    next_path = safe_next_path(request.args.get("next")) or url_for("dashboard.index")
    form = ReauthForm()
    # Where the account has second factors, a code or a passkey will do as well.
    others = reauth_forms(current_user.id, factor_only=request.args.get("factor") == "1")
    if not form.validate_on_submit():
        return render_template("auth/reauth.html", form=form, **others), 400 if form.errors else 200
    if not sudo.own_password_confirmed(form.password):
        return render_template("auth/reauth.html", form=form, **others), 401
    # A privilege change: new session id, so an id seen before cannot ride along.
    sign_ins.renew_session_id()
    sudo.mark_reauthenticated(sudo.PASSWORD)
    security_log.record("reauthenticated", user_id=current_user.id)
    return redirect(next_path, 303)


def check_sign_out_form():
    """The CSRF check, except for a sign-out form that outlived its session.

    Its token died with a session left idle past the timeout. Refusing it would leave
    a shared computer signed in, remember-me cookie included, so it is accepted when
    the browser says the form is one of our own pages: Sec-Fetch-Site (sent by every
    current browser) or, from older ones, Origin. Pages cannot set either header, so
    another site still cannot sign anyone out.
    """
    try:
        csrf.protect()
    except CSRFError as error:
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None:
            from_this_site = fetch_site == "same-origin"
        else:
            from_this_site = request.headers.get("Origin") == request.host_url.rstrip("/")
        if not from_this_site:
            raise
        # Accepted, and on the record like every other failed check.
        security_log.record("csrf_failed", reason=error.description, accepted="sign-out from this site")


def password_matches(user, username, password):
    """True if ``password`` is ``user``'s; same cost when ``user`` is ``None``.

    Threat: user enumeration. Unknown names and wrong passwords get the same
    answer and, through a dummy hash, take the same time. A hash made with old
    parameters is upgraded while the password is at hand.
    """
    if user is None:
        passwords.verify_dummy(password)
        security_log.record("login_failed", username=security_log.fingerprint(username.lower()))
        return False
    checked_hash = user.password_hash
    if not passwords.verify_password(checked_hash, password):
        security_log.record("login_failed", user_id=user.id)
        return False
    if passwords.needs_rehash(checked_hash):
        # Only over the hash that was checked: if the owner changed the password
        # meanwhile, writing this one would bring the old password back.
        db.session.execute(
            update(User)
            .where(User.id == user.id, User.password_hash == checked_hash)
            .values(password_hash=passwords.hash_password(password))
        )
        db.session.commit()
    return True
