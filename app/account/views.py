"""The account pages: devices and revocation, password change, activity, deletion.

Every page here is the user's own: records are always looked up together with the
signed-in user's id, so another user's public id is simply not found (404).
"""

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import delete, select, update

from .. import (
    account_throttle,
    activity_log,
    data_export,
    passwords,
    rate_limits,
    recovery,
    second_factors,
    security_log,
    sign_ins,
)
from ..extensions import db
from ..models import SecurityEvent, SignIn, User
from ..sudo import own_password_confirmed, reauth_required
from .forms import ActionForm, DeleteAccountForm, PasswordChangeForm, SignOutEverywhereElseForm

bp = Blueprint("account", __name__, url_prefix="/account")

EVENT_LABELS = {
    "user_registered": _l("Account created"),
    "login_succeeded": _l("Signed in"),
    "remember_me_restored": _l("Signed in again by “keep me signed in”"),
    "login_failed": _l("Failed sign-in (wrong password)"),
    "logout": _l("Signed out"),
    "reauthenticated": _l("Password confirmed"),
    "reauth_failed": _l("Wrong password at confirmation"),
    "session_revoked": _l("Ended a session"),
    "sessions_revoked": _l("Signed out everywhere else"),
    "password_changed": _l("Password changed"),
    "csrf_failed": _l("Rejected a form with a bad or expired token"),
    "rate_limited": _l("Too many attempts, slowed down"),
    "data_exported": _l("Downloaded your data"),
    "sign_in_ended_over_limit": _l("Oldest session ended: too many sessions at once"),
    "remember_cookie_reused": _l("Session ended: its “keep me signed in” cookie was used by two browsers"),
    "remember_cookie_reused_after_end": _l("A copy of the “keep me signed in” cookie of an ended session was used"),
    **recovery.EVENT_LABELS,
    **second_factors.EVENT_LABELS,
}


@bp.get("/sessions")
@login_required
def sessions():
    return _sessions_page(SignOutEverywhereElseForm())


def _sessions_page(others_form, status=200):
    current = current_user.sign_in
    # This device first, the others most recently used first.
    listed = sorted(sign_ins.live_sign_ins(current_user), key=lambda record: record.id != current.id)
    return (
        render_template(
            "account/sessions.html",
            sign_ins=listed,
            current=current,
            idle_deadline=sign_ins.idle_deadline,
            action_form=ActionForm(),
            others_form=others_form,
            factor_labels=second_factors.FACTOR_LABELS,
        ),
        status,
    )


@bp.post("/sessions/<public_id>/revoke")
@login_required
@reauth_required(return_to="account.sessions")
def revoke_session(public_id):
    record = db.session.scalar(select(SignIn).where(SignIn.public_id == public_id, SignIn.user_id == current_user.id))
    if record is None:
        # Ended a moment ago (a double click, another tab), or never this user's.
        message = _("That session is not on your list: it has ended already.")
        return render_template("errors/error.html", code=404, title=_("Session not found"), message=message), 404
    if record.id == current_user.sign_in.id:
        # Ending this very session is signing out; the page offers that instead.
        return redirect(url_for("account.sessions"), 303)
    sign_ins.end([record], commit=False)
    recovery.after_others_signed_out(current_user.id)
    db.session.commit()
    security_log.record("session_revoked", user_id=current_user.id, sign_in=record.id)
    flash(_("Signed out %(device)s.", device=record.client or _("that device")), "success")
    return redirect(url_for("account.sessions"), 303)


@bp.post("/sessions/revoke-others")
@login_required
@reauth_required(return_to="account.sessions")
@rate_limits.password_checks
def revoke_other_sessions():
    form = SignOutEverywhereElseForm()
    if not form.validate_on_submit() or not own_password_confirmed(form.password):
        return _sessions_page(form, 400)
    count = sign_ins.end_all_for(current_user, keep=current_user.sign_in, commit=False)
    recovery.after_others_signed_out(current_user.id)
    db.session.commit()
    # Copies of this browser's own cookies are somewhere else too: renew them.
    sign_ins.renew_current_sign_in()
    security_log.record("sessions_revoked", user_id=current_user.id, count=count)
    flash(ngettext("Signed out %(num)d other session.", "Signed out %(num)d other sessions.", count), "success")
    return redirect(url_for("account.sessions"), 303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
@reauth_required(return_to="account.change_password")
@rate_limits.password_checks
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return render_template("account/password.html", form=form), 400 if form.errors else 200
    if not own_password_confirmed(form.current_password):
        return render_template("account/password.html", form=form), 400
    user = current_user.record
    new_version = current_user.password_version + 1
    # Only over the password this sign-in was made with: a change or reset by another
    # request that lands first wins, and this one answers 409 instead of overwriting it.
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_version == current_user.password_version)
        .values(password_hash=passwords.hash_password(form.new_password.data), password_version=new_version)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise sign_ins.SignInChanged()
    # One transaction, committed by the restart: if this sign-in was ended meanwhile
    # (a revocation, "sign out everywhere else"), the new password does not land either.
    ended = sign_ins.end_all_for(user, keep=current_user.sign_in, commit=False)
    sign_ins.restart_current_sign_in(password_version=new_version)
    db.session.refresh(user)
    security_log.record("password_changed", user_id=current_user.id, other_sessions_ended=ended)
    flash(_("Your password is changed. Every other session has been signed out."), "success")
    response = redirect(url_for("account.sessions"), 303)
    sign_ins.forget_remember_cookie(response)
    # This browser stays a known device for the new password (the old cookie names the old one).
    account_throttle.remember_device(response, user)
    return response


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@reauth_required(return_to="account.delete_account")
@rate_limits.password_checks
def delete_account():
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return render_template("account/delete.html", form=form), 400 if form.errors else 200
    if not own_password_confirmed(form.password):
        return render_template("account/delete.html", form=form), 400
    user = current_user.record
    # One transaction, and only over the password just confirmed: a reset or a change
    # that lands first wins, and this answers 409 having deleted nothing.
    sign_ins.end_all_for(user, commit=False, keep_series=False)
    sign_ins.forget_account(user.id)
    db.session.execute(delete(SecurityEvent).where(SecurityEvent.user_id == user.id))
    recovery.forget_account(user.id)
    second_factors.forget_account(user.id)
    deleted = db.session.execute(
        delete(User).where(User.id == user.id, User.password_version == current_user.password_version)
    ).rowcount
    if not deleted:
        db.session.rollback()
        raise sign_ins.SignInChanged()
    db.session.commit()
    security_log.record("account_deleted", deleted_user_id=user.id)
    response = redirect(url_for("main.index"), 303)
    # This browser's cookies; its sign-in went with the others above.
    sign_ins.sign_out(response)
    return response


@bp.get("/export")
@login_required
@reauth_required(return_to="account.export")
def export():
    """Everything stored about the signed-in user, as a JSON download."""
    # Recorded first, so the export lists itself as well. A HEAD downloads nothing.
    if request.method == "GET":
        security_log.record("data_exported", user_id=current_user.id)
    response = jsonify(data_export.for_user(current_user.record, current_user.sign_in.id))
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@bp.get("/activity")
@login_required
def activity():
    return render_template(
        "account/activity.html", events=activity_log.recent_events(current_user), event_labels=EVENT_LABELS
    )
