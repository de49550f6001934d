"""How `flask db ...` reaches the database: Alembic runs this file for every command.

Flask-Migrate runs it inside the app, so the database and the models are the app's
own (``DATABASE_URL``, app/models.py) and nothing is configured twice.

It also adopts a database made before migrations existed. Until then ``flask init-db``
made the tables with ``db.create_all()`` and recorded no version, so Alembic would
take such a database for an empty one and fail on its first CREATE TABLE. When the
tables are there but Alembic's version table is not, the database is stamped with
the revision its tables match and the upgrade goes on from there: ``flask db
upgrade`` is the one step for old and new databases alike, and no row is touched.
"""

import logging

from alembic import context
from alembic.migration import MigrationContext
from alembic.util import CommandError
from flask import current_app
from sqlalchemy import inspect

# The revisions whose schema `flask init-db` made before migrations: the first
# release's, and the last release's (the first plus the password_version columns).
FIRST_RELEASE = "6f1d0c9a4b27"
LAST_RELEASE = "b83e5a17d2c4"

log = logging.getLogger("alembic.env")


def show_progress():
    """Print each revision as it runs, on stderr.

    A handler on Alembic's logger alone: the usual ``logging.config.fileConfig``
    would disable every logger that already exists, the app's security log too.
    """
    logger = logging.getLogger("alembic")
    # Alembic brings a NullHandler of its own; add ours once per process.
    if not any(type(handler) is logging.StreamHandler for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # Its list of comparison plugins says nothing about this database.
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def adopt_database_from_before_migrations(connection):
    """Stamp a database that `flask init-db` made with the revision it matches."""
    inspector = inspect(connection)
    if inspector.has_table("alembic_version") or not inspector.has_table("users"):
        return
    missing = [
        table
        for table in ("users", "sign_ins")
        if "password_version" not in {column["name"] for column in inspector.get_columns(table)}
    ]
    if len(missing) == 1:
        # One of the two ALTER TABLE statements the README used to ask for ran, not both.
        raise CommandError(
            f"users and sign_ins disagree: {missing[0]} has no password_version column. Run "
            f"ALTER TABLE {missing[0]} ADD COLUMN password_version INTEGER NOT NULL DEFAULT 0; "
            "then flask db upgrade again."
        )
    revision = FIRST_RELEASE if missing else LAST_RELEASE
    log.info("Tables made before migrations found: recording them as revision %s", revision)
    MigrationContext.configure(connection).stamp(context.script, revision)


def skip_empty_revision(migration_context, revision, directives):
    """`flask db migrate` with no change to the models writes no empty file."""
    if directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("The models and the migrations agree: no revision written.")


def run_migrations():
    if context.is_offline_mode():
        # Adopting an old database means looking at it: there is no SQL-script mode.
        raise CommandError("--sql is not supported: run the command against the database itself")
    migrate = current_app.extensions["migrate"]
    # Committed on its own: SQLite commits only the steps of a migration, and a
    # database already at that revision has no step to run.
    with migrate.db.engine.begin() as connection:
        adopt_database_from_before_migrations(connection)
    with migrate.db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=migrate.db.metadata,
            process_revision_directives=skip_empty_revision,
            **migrate.configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()


show_progress()
run_migrations()
