"""The second-factor step of sign-in, passkey sign-in, re-authentication, the account page.

Every POST is CSRF-checked by CSRFProtect (the passkey options too: static/passkeys.js
sends the form's token in ``X-CSRFToken``). Adding a factor, removing one and making
new recovery codes need a re-authentication of their own (not the sign-in's), with a factor where
the account has one (app/sudo.py), and each is mailed to the owner (app/recovery/).
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from .. import account_throttle, rate_limits, recovery, security_log, sessions, sign_ins, sudo
from ..account.forms import ActionForm
from ..auth.forms import LoginForm, ReauthForm
from ..extensions import db
from ..models import User
from ..redirects import safe_next_path
from ..tokens import sha256_hex
from . import (
    code_used,
    enabled_for,
    first_recovery_codes,
    forget_codes_without_factors,
    passkeys,
    pending,
    recovery_codes,
    secret_box,
    totp,
    use_code,
)
from .forms import AddPasskeyForm, CodeForm, PasskeyForm, SetupForm
from .models import Authenticator, Passkey

bp = Blueprint("second_factors", __name__)

# Adding or removing a factor, and new recovery codes: a re-authentication of its own,
# with a factor where the account has one (app/sudo.py).
_authentication_change_reauth_required = sudo.authentication_change_reauth_required(
    "second_factors.overview", enabled_for
)

# The secret of an app being set up, encrypted, until its first code confirms it.
SETUP_KEY = "_authenticator_setup"
# The "Make new recovery codes" form names the set of codes it was shown with, and
# replaces that set only. Threat to the owner's own data: a reload of the page that
# showed new codes sends the form again, as does a second tab or a second click, and
# would silently replace the codes just written down.
CODES_SET_USED_PREFIX = "recovery-codes-set:"


def _half_signed_in_user():
    """The account of this browser's half-signed-in state, or ``None`` (the state is gone)."""
    state = pending.current()
    user = db.session.get(User, state.user_id) if state else None
    if user is None:
        pending.discard()
    return state, user


def _start_again():
    flash(_("Your sign-in was not finished in time. Please sign in again."), "info")
    return redirect(url_for("auth.login"), 303)


def _step_page(user, form, status=200):
    offer_passkey = _passkeys_on() and bool(passkeys.of_user(user.id))
    has_app = db.session.get(Authenticator, user.id) is not None
    if not has_app:
        # A passkey-only account: the field takes its recovery codes, and no app code.
        form.code.label.text = _("Recovery code")
    return render_template("second_factors/step.html", form=form, offer_passkey=offer_passkey, has_app=has_app), status


@bp.route("/auth/second-factor", methods=["GET", "POST"])
@rate_limits.failed_logins
def step():
    """The one page the half-signed-in state can see: the code (or passkey), then the sign-in."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    state, user = _half_signed_in_user()
    if user is None:
        return _start_again()
    form = CodeForm()
    if not form.validate_on_submit():
        return _step_page(user, form, 400 if form.errors else 200)
    # Every code counts against the account, like a password: tabs and addresses add up.
    bucket = account_throttle.take_attempt(user.username, user)
    factor = use_code(user.id, form.code.data, commit=False)
    if factor is None:
        db.session.rollback()
        form.code.errors.append(_("That code is not right, or it has been used already."))
        return _wrong_second_factor(user, form)
    return _complete_sign_in(user, state, bucket, factor)


@bp.post("/auth/second-factor/passkey")
@rate_limits.failed_logins
def step_with_passkey():
    """The second factor by passkey, after the password."""
    state, user = _half_signed_in_user()
    if user is None or current_user.is_authenticated:
        return _start_again()
    form = PasskeyForm()
    if not form.validate_on_submit():
        return _step_page(user, CodeForm(formdata=None), 400)
    bucket = account_throttle.take_attempt(user.username, user)
    if passkeys.authenticate("second-factor", form.credential.data, user_id=user.id) is None:
        return _wrong_second_factor(user, CodeForm(formdata=None), _("That passkey was not accepted."))
    return _complete_sign_in(user, state, bucket, "passkey")


def _wrong_second_factor(user, form, message=None):
    security_log.record("second_factor_failed", user_id=user.id)
    left = pending.count_failure()
    if left == current_app.config["SECOND_FACTOR_MAX_ATTEMPTS"] - 1:
        # The first wrong code after this right password: whoever typed it may not
        # have the factor. Once per half-signed-in state, so four wrong codes in each of
        # many states cannot stay unreported either.
        recovery.after_second_factor_guessed(user)
    if not left:
        return render_template("second_factors/step.html", form=None, offer_passkey=False), 401
    if message:
        form.form_errors.append(message)
    return _step_page(user, form, 401)


def _complete_sign_in(user, state, bucket, factor):
    if not pending.take():
        # Another tab finished this sign-in a moment ago, or it timed out meanwhile: the
        # code this request matched stays unused (its use is not committed yet).
        db.session.rollback()
        return redirect(url_for("auth.login"), 303)
    # The code is used up only by the one request that finishes the sign-in.
    db.session.commit()
    code_used(user.id, factor)
    account_throttle.forget_attempts(bucket)
    return _sign_in(user, factor, state.remember, state.password_version, state.next_path)


def _sign_in(user, factor, remember, password_version, next_path):
    account_throttle.take_successful_sign_in(user)
    record = sign_ins.sign_in(user, remember=remember, password_version=password_version, second_factor=factor)
    security_log.record(
        "login_succeeded", user_id=user.id, sign_in=record.id, remember=record.remember, second_factor=factor
    )
    recovery.after_sign_in(user, record)
    response = redirect(safe_next_path(next_path) or url_for("dashboard.index"), 303)
    account_throttle.remember_device(response, user, password_version=record.password_version)
    return response


@bp.post("/auth/passkey")
@rate_limits.failed_logins
@rate_limits.successful_logins
def sign_in_with_passkey():
    """Sign in with a passkey alone: no username typed (a discoverable credential).

    With user verification the passkey is both factors. Threat: someone holding only a
    stolen session-less browser: the device still asks for its PIN or biometrics.
    """
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    if not _passkeys_on():
        abort(404)
    form = PasskeyForm()
    passkey = passkeys.authenticate("sign-in", form.credential.data) if form.validate_on_submit() else None
    if passkey is None:
        login_form = LoginForm(formdata=None)
        login_form.form_errors.append(_("That passkey was not accepted."))
        return render_template("auth/login.html", form=login_form), 401
    user = db.session.get(User, passkey.user_id)
    # A password typed in this browser a moment ago is no longer waiting for its code.
    pending.discard()
    return _sign_in(user, "passkey", False, user.password_version, request.args.get("next"))


@bp.post("/passkeys/options/<purpose>")
def passkey_options(purpose):
    """The options for the browser's passkey dialog; the challenge waits in the session.

    A refusal is JSON too, with the page the browser should go to instead, which
    static/passkeys.js opens: the sign-in page, or re-authentication before a passkey
    is added (the page may have been opened while it was not needed yet).
    """
    if purpose not in passkeys.PURPOSES or not _passkeys_on():
        abort(404)
    if purpose == "sign-in":
        options = passkeys.authentication_options(purpose)
    elif purpose == "second-factor":
        user = _half_signed_in_user()[1]
        if user is None:
            return _options_refused(400, "no sign-in is waiting for its second factor", url_for("auth.login"))
        options = passkeys.authentication_options(purpose, user_id=user.id)
    elif not current_user.is_authenticated:
        return _options_refused(401, "not signed in", url_for("auth.login"))
    elif purpose == "reauth":
        options = passkeys.authentication_options(purpose, user_id=current_user.id)
    else:
        with_factor = enabled_for(current_user.id)
        if not sudo.authentication_change_confirmed(with_factor):
            reauth = sudo.authentication_change_reauth_url("second_factors.overview", with_factor)
            return _options_refused(403, "re-authentication needed", reauth)
        options = passkeys.registration_options(current_user)
    return current_app.response_class(options, mimetype="application/json")


def _options_refused(status, reason, location):
    return jsonify(error=reason, location=location), status


@bp.post("/auth/reauth/code")
@login_required
@rate_limits.password_checks
def reauth_with_code():
    """Re-authentication with a code instead of the password, where the account has factors."""
    form = CodeForm()
    if not form.validate_on_submit():
        return _reauth_page(form, 400)
    factor = use_code(current_user.id, form.code.data)
    if factor is None:
        security_log.record("reauth_failed", user_id=current_user.id, second_factor=True)
        form.code.errors.append(_("That code is not right, or it has been used already."))
        return _reauth_page(form, 401)
    return _reauthenticated(factor)


@bp.post("/auth/reauth/passkey")
@login_required
@rate_limits.password_checks
def reauth_with_passkey():
    """Re-authentication with one of the account's passkeys."""
    form = PasskeyForm()
    if not form.validate_on_submit():
        return _reauth_page(CodeForm(formdata=None), 400)
    if passkeys.authenticate("reauth", form.credential.data, user_id=current_user.id) is None:
        security_log.record("reauth_failed", user_id=current_user.id, second_factor=True)
        reauth_form = ReauthForm(formdata=None)
        reauth_form.form_errors.append(_("That passkey was not accepted."))
        return _reauth_page(CodeForm(formdata=None), 401, form=reauth_form)
    return _reauthenticated("passkey")


def _reauthenticated(factor):
    # A privilege change, as with the password: a new session id.
    sign_ins.renew_session_id()
    sudo.mark_reauthenticated(factor)
    security_log.record("reauthenticated", user_id=current_user.id, second_factor=factor)
    return redirect(safe_next_path(request.args.get("next")) or url_for("dashboard.index"), 303)


def _reauth_page(code_form, status, form=None):
    others = reauth_forms(current_user.id, factor_only=request.args.get("factor") == "1")
    return (
        render_template(
            "auth/reauth.html",
            form=form or ReauthForm(formdata=None),
            code_form=code_form,
            offer_passkey=others["offer_passkey"],
            factor_only=others["factor_only"],
        ),
        status,
    )


def reauth_forms(user_id, factor_only=False):
    """The code form and passkey button of the re-authentication page, for the factors the account has.

    ``factor_only``: a change to the factors asked for one of them (app/sudo.py), so the
    password form is left out where the account has a factor.
    """
    has_factor = enabled_for(user_id)
    return {
        "factor_only": factor_only and has_factor,
        "code_form": CodeForm(formdata=None) if has_factor else None,
        "offer_passkey": _passkeys_on() and bool(passkeys.of_user(user_id)),
    }


@bp.get("/account/second-factor")
@login_required
def overview():
    return _overview_page(AddPasskeyForm(formdata=None))


def _overview_page(add_form, status=200):
    has_factor = enabled_for(current_user.id)
    return (
        render_template(
            "second_factors/overview.html",
            authenticator=db.session.get(Authenticator, current_user.id),
            passkeys=passkeys.of_user(current_user.id),
            passkeys_on=_passkeys_on(),
            has_factor=has_factor,
            codes_set=recovery_codes.set_id(current_user.id),
            codes_left=recovery_codes.remaining(current_user.id),
            action_form=ActionForm(),
            add_form=add_form,
        ),
        status,
    )


@bp.route("/account/second-factor/app", methods=["GET", "POST"])
@login_required
@_authentication_change_reauth_required
@rate_limits.password_checks
def add_app():
    """Set up an authenticator app: scan, type its first code, get the recovery codes."""
    if db.session.get(Authenticator, current_user.id) is not None:
        return redirect(url_for("second_factors.overview"), 303)
    secret = _setup_secret()
    if secret is None:
        # A POST without a secret being set up (it expired with the session): start over.
        return redirect(url_for("second_factors.add_app"), 303)
    form = SetupForm()
    if form.validate_on_submit():
        step = totp.matching_step(secret, form.code.data)
        if step is not None:
            return _enable_app(secret, step)
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


def _enable_app(secret, step):
    totp.enable(current_user.id, secret, step)
    session.pop(SETUP_KEY, None)
    return _factor_added("totp", "second_factor_added")


@bp.post("/account/passkeys")
@login_required
@_authentication_change_reauth_required
def add_passkey():
    """Store a new passkey, named by its owner, after the browser made it."""
    if not _passkeys_on():
        abort(404)
    form = AddPasskeyForm()
    if not form.validate_on_submit():
        return _overview_page(form, 400)
    try:
        added = passkeys.register(current_user.id, form.credential.data, form.name.data)
    except passkeys.AlreadyRegistered:
        form.form_errors.append(_("That passkey is registered already."))
        return _overview_page(form, 400)
    if added is None:
        form.form_errors.append(_("The passkey could not be added. Please try again."))
        return _overview_page(form, 400)
    return _factor_added("passkey", "passkey_added", name=form.name.data)


def _factor_added(factor, event, name=""):
    """Commit the new factor; with the account's first factor come its recovery codes."""
    codes = first_recovery_codes(current_user.id)
    try:
        db.session.flush()
    except IntegrityError:
        # The same form sent twice at once (or a passkey already here): the first one counts.
        db.session.rollback()
        return redirect(url_for("second_factors.overview"), 303)
    # This sign-in has just shown the factor, and its row says so: its remember cookie
    # may restore it. A new token, so that a copy of this browser's cookies taken
    # before (which skipped the factor) dies. The renewal commits the factor with it.
    sign_ins.renew_current_sign_in(second_factor=factor)
    security_log.record(event, user_id=current_user.id)
    recovery.after_second_factor_change(current_user, event, name)
    if codes is None:
        flash(_("Added. Your recovery codes stay as they were."), "success")
        return redirect(url_for("second_factors.overview"), 303)
    return render_template("second_factors/recovery_codes.html", codes=codes, first=True)


@bp.post("/account/second-factor/app/remove")
@login_required
@_authentication_change_reauth_required
def remove_app():
    """Remove the authenticator app; every other sign-in ends."""
    removed = db.session.execute(delete(Authenticator).where(Authenticator.user_id == current_user.id)).rowcount
    return _factor_removed(removed, "second_factor_removed", "")


@bp.post("/account/passkeys/<public_id>/remove")
@login_required
@_authentication_change_reauth_required
def remove_passkey(public_id):
    """Remove one passkey; every other sign-in ends."""
    names = db.session.scalars(
        delete(Passkey)
        .where(Passkey.public_id == public_id, Passkey.user_id == current_user.id)
        .returning(Passkey.name)
    ).all()
    return _factor_removed(len(names), "passkey_removed", names[0] if names else "")


def _factor_removed(removed, event, name):
    """Threat: someone holding another of the account's sessions, or a copy of its cookies,
    who may have been the reason to remove the factor: whatever they hold is ended, and
    this device gets a new token and session id. With no factor left, the recovery
    codes go too, and the password alone signs in again.
    """
    if not removed:
        # Removed a moment ago (a double click, another tab), or never this user's.
        db.session.rollback()
        return redirect(url_for("second_factors.overview"), 303)
    forget_codes_without_factors(current_user.id)
    # One transaction, committed by the renewal: if this sign-in was ended meanwhile
    # (a revocation elsewhere), the factor stays and this answers 409.
    ended = sign_ins.end_all_for(current_user, keep=current_user.sign_in, commit=False)
    recovery.after_others_signed_out(current_user.id)
    sign_ins.renew_current_sign_in()
    security_log.record(event, user_id=current_user.id, other_sessions_ended=ended)
    recovery.after_second_factor_change(current_user, event, name)
    flash(_("Removed. Every other session has been signed out."), "success")
    return redirect(url_for("second_factors.overview"), 303)


@bp.post("/account/second-factor/recovery-codes")
@login_required
@_authentication_change_reauth_required
def regenerate_codes():
    """Ten new recovery codes; the old ones stop working. A form replaces the set it was shown with, once."""
    if not enabled_for(current_user.id):
        return redirect(url_for("second_factors.overview"), 303)
    shown_set = request.form.get("codes_set", "")
    current_set = recovery_codes.set_id(current_user.id)
    # Two requests at once both find their set current: the store lets one of them on.
    mark = CODES_SET_USED_PREFIX + sha256_hex(f"{current_user.public_id}:{current_set}")
    if shown_set != current_set or not sessions.mark_used_once(mark, current_app.config["REAUTH_WINDOW"]):
        flash(_("New recovery codes were made after this page was shown: only the newest work."), "info")
        return redirect(url_for("second_factors.overview"), 303)
    codes = recovery_codes.replace_all(current_user.id)
    db.session.commit()
    security_log.record("recovery_codes_regenerated", user_id=current_user.id)
    recovery.after_second_factor_change(current_user, "recovery_codes_regenerated")
    return render_template("second_factors/recovery_codes.html", codes=codes, first=False)


def _passkeys_on():
    return bool(current_app.config["WEBAUTHN_RP_ID"] and current_app.config["WEBAUTHN_ORIGIN"])
