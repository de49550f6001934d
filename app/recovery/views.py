"""The pages behind emailed links, "Forgot your password?" and the email page.

Every emailed link opens a page that only shows what it will do (GET); the change
needs its button (POST, CSRF-checked): mail scanners and link previews follow links,
and must change nothing. Tokens travel in the query string, which the access log
leaves out (gunicorn.conf.py), and then in a hidden field: the form posts to the
address without them. Unknown, used or expired links get a 404 page and count
against ``EMAIL_LINK_RATE_LIMIT`` per client (threat: token guessing).
"""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import rate_limits, second_factors, sign_ins
from ..extensions import limiter
from ..sudo import authentication_change_reauth_required, own_password_confirmed, reauth_required
from . import addresses, new_device, password_reset
from .forms import EmailAddressForm, ForgotPasswordForm, LinkForm, ResetPasswordForm

bp = Blueprint("recovery", __name__)


def _config(name):
    return lambda: current_app.config[name]


reset_requests = limiter.limit(_config("PASSWORD_RESET_RATE_LIMIT"), methods=["POST"], scope="password-reset")
emailed_links = limiter.shared_limit(
    _config("EMAIL_LINK_RATE_LIMIT"), scope="email-links", deduct_when=lambda response: response.status_code == 404
)


@bp.route("/auth/forgot", methods=["GET", "POST"])
@reset_requests
def forgot_password():
    """One answer for every name, account or not: the job behind it decides (password_reset.py)."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("recovery/forgot.html", form=form), 400 if form.errors else 200
    password_reset.request_link(form.account.data)
    return render_template("recovery/forgot_sent.html", minutes=_minutes("PASSWORD_RESET_LIFETIME"))


@bp.route("/auth/reset", methods=["GET", "POST"])
@emailed_links
def reset_password():
    form = ResetPasswordForm(token=request.args.get("token"))
    user = password_reset.pending(form.token.data)
    if user is None:
        return dead_link()
    form.account_name = user.username
    if not form.validate_on_submit():
        return render_template("recovery/reset.html", form=form, username=user.username), 400 if form.errors else 200
    user = password_reset.complete(form.token.data, form.new_password.data)
    if user is None:
        return dead_link()
    response = redirect(url_for("recovery.password_reset_done"), 303)
    if current_user.is_authenticated and current_user.id == user.id:
        # This browser's sign-in ended with all the others: forget its cookies too.
        sign_ins.sign_out(response)
    return response


@bp.get("/auth/reset/done")
def password_reset_done():
    return render_template("recovery/reset_done.html")


@bp.route("/email/confirm", methods=["GET", "POST"])
@emailed_links
def confirm_address():
    form = LinkForm(token=request.args.get("token"))
    pending = addresses.pending_confirmation(form.token.data)
    if pending is None:
        return dead_link()
    address, username = pending
    if not form.validate_on_submit():
        page = render_template("recovery/confirm_address.html", form=form, address=address, username=username)
        return page, 400 if form.errors else 200
    try:
        confirmed = addresses.confirm(form.token.data)
    except addresses.AddressTaken:
        return address_taken()
    if confirmed is None:
        return dead_link()
    return render_template("recovery/address_confirmed.html", address=address)


@bp.route("/email/undo", methods=["GET", "POST"])
@emailed_links
def undo_address_change():
    form = LinkForm(token=request.args.get("token"))
    pending = addresses.pending_undo(form.token.data)
    if pending is None:
        return dead_link()
    address, username = pending
    if not form.validate_on_submit():
        page = render_template("recovery/undo_address_change.html", form=form, address=address, username=username)
        return page, 400 if form.errors else 200
    try:
        undone = addresses.undo(form.token.data)
    except addresses.AddressTaken:
        return address_taken()
    if undone is None:
        return dead_link()
    return render_template("recovery/address_restored.html", address=address, reset_form=ForgotPasswordForm())


@bp.route("/auth/not-me", methods=["GET", "POST"])
@emailed_links
def not_me():
    form = LinkForm(token=request.args.get("token"))
    record = new_device.pending_report(form.token.data)
    if record is None:
        return dead_link()
    if not form.validate_on_submit():
        return render_template("recovery/not_me.html", form=form, record=record), 400 if form.errors else 200
    address = new_device.report(form.token.data)
    if address is None:
        return dead_link()
    return render_template("recovery/sign_in_ended.html", address=address, reset_form=ForgotPasswordForm())


@bp.get("/account/email")
@login_required
def email_address():
    return _email_page(EmailAddressForm())


@bp.post("/account/email")
@login_required
@reauth_required(return_to="recovery.email_address")
@authentication_change_reauth_required("recovery.email_address", second_factors.enabled_for, form_asks_password=True)
@rate_limits.password_checks
def change_email_address():
    """Changing the address is the first step of taking an account over: password again.

    Where the account has a second factor, a code or passkey given since the sign-in as
    well: the address is where password resets go.
    """
    form = EmailAddressForm()
    if not form.validate_on_submit() or not own_password_confirmed(form.password):
        return _email_page(form, 400)
    addresses.request_change(current_user, form.address.data)
    hours = _minutes("EMAIL_CONFIRMATION_LIFETIME") // 60
    flash(
        _(
            "We sent a link to %(address)s. Your address changes when you follow it, within %(hours)d hours.",
            address=form.address.data,
            hours=hours,
        ),
        "info",
    )
    return redirect(url_for("recovery.email_address"), 303)


def _email_page(form, status=200):
    return render_template("recovery/email.html", form=form, address=addresses.address_of(current_user.id)), status


def dead_link():
    return render_template("recovery/dead_link.html"), 404


def address_taken():
    return render_template("recovery/address_taken.html"), 409


def _minutes(setting):
    return int(current_app.config[setting].total_seconds() // 60)
