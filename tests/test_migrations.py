"""The migrations in migrations/: the one way a schema is made or changed.

They run on SQLite here and on PostgreSQL under ``make test-postgres``. If a model
changes without a revision, the first test fails: that is what CI catches.
"""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, func, inspect, select, text
from sqlalchemy.schema import CreateIndex

from app.extensions import db
from tests.conftest import AuthActions, empty_database

pytestmark = [
    # Alembic cannot read expression indexes back from SQLite and warns that it skips
    # them; schema_differences compares them itself there.
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


@pytest.fixture
def empty_app(make_app):
    """An app whose database has no table at all."""
    app = make_app(create_tables=False)
    empty_database(app)
    return app


def flask_db(app, *args):
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output


def schema_differences(app, models=None):
    """What `flask db migrate` would write into a new revision; empty if nothing.

    ``models`` is the metadata to compare with, the app's models by default.
    """
    models = db.metadata if models is None else models
    with app.app_context(), db.engine.connect() as connection:
        # The options `flask db migrate` compares with (types, server defaults).
        context = MigrationContext.configure(connection, opts=dict(app.extensions["migrate"].configure_args))
        differences = compare_metadata(context, models)
        if connection.dialect.name == "sqlite":
            differences += sqlite_expression_index_differences(connection, models)
    return differences


def sqlite_expression_index_differences(connection, models):
    """Expression indexes (``lower(username)``) that the models and SQLite disagree on.

    SQLite cannot say what such an index covers, so Alembic skips them there. It keeps
    each index's CREATE statement, though: compare that with what the model issues.
    """
    inspector = inspect(connection)
    readable = {index["name"] for table in inspector.get_table_names() for index in inspector.get_indexes(table)}
    stored = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    in_database = {name: sql for name, sql in stored if name not in readable}
    in_models = {
        index.name: str(CreateIndex(index).compile(dialect=connection.dialect))
        for table in models.tables.values()
        for index in table.indexes
        if not all(isinstance(expression, Column) for expression in index.expressions)
    }

    def words(sql):
        return (sql or "").split()

    return [
        ("expression index", name)
        for name in sorted(in_database.keys() | in_models.keys())
        if words(in_database.get(name)) != words(in_models.get(name))
    ]


def revisions(app):
    """Every revision id, oldest first."""
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def current_revision(app):
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def all_rows(app):
    """Every row of every table, leaving out password_version, which not every release has."""
    with app.app_context(), db.engine.connect() as connection:
        tables = MetaData()
        tables.reflect(connection, only=["users", "sign_ins", "security_events"])
        return {
            name: [
                {column: value for column, value in row._mapping.items() if column != "password_version"}
                for row in connection.execute(select(table).order_by(table.c.id))
            ]
            for name, table in tables.tables.items()
        }


def test_upgrade_from_empty_gives_exactly_the_schema_of_the_models(empty_app):
    flask_db(empty_app, "upgrade")
    assert current_revision(empty_app) == revisions(empty_app)[-1]
    assert schema_differences(empty_app) == []


def add_column(users):
    users.append_column(Column("nickname", String(32)))


def add_table(users):
    Table("api_keys", users.metadata, Column("id", Integer, primary_key=True))


def add_index(users):
    Index("ix_users_created_at", users.c.created_at)


def add_expression_index(users):
    Index("ix_users_password_hash_length", func.length(users.c.password_hash))


def drop_expression_index(users):
    users.indexes.remove(next(index for index in users.indexes if index.name == "uq_users_username_lower"))


def widen_column(users):
    users.c.username.type = String(64)


def change_server_default(users):
    users.c.password_version.server_default = None


MODEL_CHANGES = [
    add_column,
    add_table,
    add_index,
    add_expression_index,
    drop_expression_index,
    widen_column,
    change_server_default,
]


@pytest.mark.parametrize("change", MODEL_CHANGES)
def test_a_model_change_without_a_migration_is_caught(app, change):
    models = MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(models)
    change(models.tables["users"])
    assert schema_differences(app, models) != []


@pytest.mark.parametrize("release", ["last release", "first release"])
def test_a_database_from_before_migrations_upgrades_and_nobody_is_signed_out(empty_app, release, caplog):
    app = empty_app
    with app.app_context():
        # What `flask init-db` did before there were migrations.
        db.create_all()
    alice = AuthActions(app, app.test_client())
    alice.create_user()
    alice.login(remember=True)
    stranger = AuthActions(app, app.test_client())
    stranger.create_user("bob")
    stranger.login("bob", "not bob's password")
    if release == "first release":
        # It had no password_version: the README asked for two ALTER TABLEs by hand.
        with app.app_context():
            db.session.execute(text("ALTER TABLE users DROP COLUMN password_version"))
            db.session.execute(text("ALTER TABLE sign_ins DROP COLUMN password_version"))
            db.session.commit()
    before = all_rows(app)
    assert all(before.values()), "users, sign-ins and security events to carry over"

    flask_db(app, "upgrade")

    assert "Tables made before migrations found" in caplog.text
    assert all_rows(app) == before
    assert schema_differences(app) == []
    assert alice.client.get("/dashboard").status_code == 200
    assert AuthActions(app, app.test_client()).login("bob").headers["Location"] == "/dashboard"


def test_a_half_upgraded_database_from_before_migrations_is_refused_with_the_fix(empty_app, caplog):
    with empty_app.app_context():
        db.create_all()
        db.session.execute(text("ALTER TABLE sign_ins DROP COLUMN password_version"))
        db.session.commit()
    result = empty_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 1
    assert "ALTER TABLE sign_ins ADD COLUMN password_version INTEGER NOT NULL DEFAULT 0;" in caplog.text
    assert current_revision(empty_app) is None


def test_downgrade_to_the_first_revision_and_back_keeps_every_row(app, signed_in):
    before = all_rows(app)
    first = revisions(app)[0]

    flask_db(app, "downgrade", first)
    assert current_revision(app) == first
    # The first revision's schema is today's without password_version, and nothing else.
    missing = sorted((kind, table, column.name) for kind, _, table, column in schema_differences(app))
    assert missing == [("add_column", "sign_ins", "password_version"), ("add_column", "users", "password_version")]

    flask_db(app, "upgrade")
    assert current_revision(app) == revisions(app)[-1]
    assert schema_differences(app) == []
    assert all_rows(app) == before
    assert signed_in.client.get("/dashboard").status_code == 200


def test_upgrade_with_nothing_to_do_changes_nothing(app, signed_in):
    before = all_rows(app)
    flask_db(app, "upgrade")
    assert all_rows(app) == before
    assert signed_in.client.get("/dashboard").status_code == 200
