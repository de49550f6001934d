"""Command-line tools: ``flask init-db`` and ``flask create-user USERNAME``."""

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.datastructures import MultiDict

from . import passwords
from .auth.forms import RegisterForm
from .extensions import db
from .models import User


def init_app(app):
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)


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
