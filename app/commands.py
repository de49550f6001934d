"""Command-line tools: ``flask init-db`` and ``flask create-user USERNAME``."""

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.datastructures import MultiDict

from config import insecure_settings

from . import passwords
from .auth.forms import RegisterForm
from .extensions import db
from .models import User


def init_app(app):
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(security_check)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the tables that do not exist yet (safe to run again)."""
    db.create_all()
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
