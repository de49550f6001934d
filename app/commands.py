"""Command-line tools for operators.

``flask create-user USERNAME``, ``flask security-check``,
``flask sessions list|revoke USERNAME``, ``flask sessions revoke-all`` (after an
incident: everyone signs in again), ``flask second-factors reset USERNAME`` (a user who
lost both the app and the recovery codes, once you know it is them) and
``flask retention purge`` (daily).
Each prints a one-line summary and exits non-zero on error (ASVS 7.4.5).
The schema is Flask-Migrate's: ``flask db upgrade`` (``flask init-db`` is an old name for it).
"""

import click
import flask_migrate
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.datastructures import MultiDict

from config import insecure_settings

from . import passwords, recovery, retention, second_factors, security_log, sign_ins
from .auth.forms import RegisterForm
from .extensions import db
from .models import SignIn, User


def init_app(app):
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(security_check)
    app.cli.add_command(sessions_group)
    app.cli.add_command(second_factors_group)
    app.cli.add_command(retention_group)


@click.command("init-db")
@with_appcontext
def init_db():
    """Deprecated: run `flask db upgrade`, which this now does."""
    # Kept for one release, so deployment scripts that call it keep working.
    click.echo("flask init-db is deprecated and will be removed: use flask db upgrade.", err=True)
    flask_migrate.upgrade()
    click.echo("Database ready.")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.password_option(prompt="Password", confirmation_prompt="Repeat the password")
def create_user(username, password):
    """Create an account, with the same rules as the sign-up form."""
    # The sign-up form is the one place the username and password rules live.
    with current_app.test_request_context():
        form = RegisterForm(
            formdata=MultiDict({"username": username, "password": password, "confirm": password}),
            meta={"csrf": False},
        )
        if not form.validate():
            for errors in form.errors.values():
                for error in errors:
                    click.echo(f"Error: {error}", err=True)
            raise SystemExit(1)
    db.session.add(User(username=form.username.data, password_hash=passwords.hash_password(password)))
    db.session.commit()
    click.echo(f"Created user {form.username.data}.")


@click.command("security-check")
@with_appcontext
def security_check():
    """List every insecure setting of the current config; exit 1 if there is any."""
    problems = insecure_settings(current_app.config)
    env_name = current_app.config["APP_ENV"]
    if not problems:
        click.echo(f"No insecure settings found ({env_name} config).")
        return
    click.echo(f"{len(problems)} insecure setting(s) in the {env_name} config:")
    for problem in problems:
        click.echo(f"  - {problem}")
    raise SystemExit(1)


@click.group("sessions")
def sessions_group():
    """See and end the sessions of users."""


@sessions_group.command("list")
@click.argument("username")
@with_appcontext
def list_sessions(username):
    """List the live sessions of USERNAME."""
    user = _existing_user(username)
    records = sign_ins.live_sign_ins(user)
    for record in records:
        click.echo(
            f"{record.public_id}  started {record.created_at:%Y-%m-%d %H:%M}Z  "
            f"last seen {record.last_seen_at:%Y-%m-%d %H:%M}Z  {record.ip_address or '-'}  "
            f"{record.client or 'unknown browser'}{'  remembered' if record.remember else ''}"
        )
    click.echo(f"{len(records)} live session(s) for {user.username}.")


@sessions_group.command("revoke")
@click.argument("username")
@with_appcontext
def revoke_sessions(username):
    """End every session and remember-me token of USERNAME."""
    user = _existing_user(username)
    count = sign_ins.end_all_for(user)
    click.echo(f"Ended {count} session(s) of {user.username}.")


@sessions_group.command("revoke-all")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def revoke_all_sessions(yes):
    """End every session of every user (after an incident)."""
    if not yes:
        click.confirm("Sign out every user everywhere?", abort=True)
    records = list(db.session.scalars(db.select(SignIn)))
    sign_ins.end(records)
    click.echo(f"Ended {len(records)} session(s) of all users.")


@click.group("second-factors")
def second_factors_group():
    """Manage the second factors of users."""


@second_factors_group.command("reset")
@click.argument("username")
@with_appcontext
def reset_second_factors(username):
    """Remove the authenticator app and recovery codes of USERNAME and end every session."""
    user = _existing_user(username)
    second_factors.remove_all(user.id)
    # Whoever holds one of its sessions, or asked to move it to their address, may be
    # the one the reset is about.
    count = sign_ins.end_all_for(user, commit=False)
    recovery.after_others_signed_out(user.id)
    db.session.commit()
    security_log.record("second_factors_reset", user_id=user.id, sessions_ended=count)
    click.echo(f"Removed the second factors of {user.username} and ended {count} session(s).")


@click.group("retention")
def retention_group():
    """Delete personal data past its retention period."""


@retention_group.command("purge")
@with_appcontext
def purge():
    """Apply the retention periods now (run daily)."""
    counts = retention.purge()
    click.echo(
        f"Ended {counts['ended_sign_ins']} timed-out sign-in(s), erased the address of "
        f"{counts['anonymised_sign_ins']}, deleted {counts['deleted_events']} old security event(s) "
        f"and {counts['deleted_email_links']} expired email link(s); forgot "
        f"{counts['forgotten_ended_sign_ins']} ended sign-in(s) past their expiry."
    )


def _existing_user(username):
    user = User.find_by_username(username)
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    return user
