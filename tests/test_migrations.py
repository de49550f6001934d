"""The migrations in migrations/: the one way a schema is made or changed.

They run on SQLite here and on PostgreSQL under ``make test-postgres``. If a model
changes without a revision, the first test fails: that is what CI catches.
"""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.schema import CreateIndex

from app.extensions import db
from tests.conftest import AuthActions, empty_database

# The revisions whose schema `flask init-db` made before migrations (migrations/env.py).
FIRST_RELEASE = "6f1d0c9a4b27"
LAST_RELEASE = "b83e5a17d2c4"

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


def tables_made_by_init_db(release):
    """The tables that `flask init-db` (``db.create_all()``) made before migrations.

    Frozen here, because app/models.py moves on: the first release's models, and
    the last release's, which added password_version to users and sign-ins.
    """
    tables = MetaData()

    def password_version():
        if release == LAST_RELEASE:
            yield Column("password_version", Integer, nullable=False, server_default="0")

    users = Table(
        "users",
        tables,
        Column("id", Integer, primary_key=True),
        Column("username", String(32), nullable=False),
        Column("password_hash", String(255), nullable=False),
        *password_version(),
        Column("created_at", DateTime, nullable=False),
    )
    Index("uq_users_username_lower", func.lower(users.c.username), unique=True)
    Table(
        "sign_ins",
        tables,
        Column("id", Integer, primary_key=True),
        Column("public_id", String(22), nullable=False, unique=True),
        Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("session_hash", String(64)),
        Column("remember", Boolean, nullable=False),
        *password_version(),
        Column("created_at", DateTime, nullable=False),
        Column("last_seen_at", DateTime, nullable=False),
        Column("expires_at", DateTime, nullable=False),
        Column("ip_address", String(45)),
        Column("client", String(80)),
    )
    Table(
        "security_events",
        tables,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("event", String(40), nullable=False),
        Column("created_at", DateTime, nullable=False, index=True),
        Column("ip_address", String(45)),
        Column("client", String(80)),
    )
    return tables


def all_rows(app):
    """Every row of every table, in the columns the first release already had."""
    first_release = tables_made_by_init_db(FIRST_RELEASE)
    with app.app_context(), db.engine.connect() as connection:
        return {
            name: [row._asdict() for row in connection.execute(select(table).order_by(table.c.id))]
            for name, table in first_release.tables.items()
        }


def made_before_migrations(app, release):
    """Turn the app's database into one that ``release``'s `flask init-db` made.

    Its rows stay: those of a user signed in through today's app, say. Then it holds
    that release's tables exactly, and no record of a revision.
    """
    flask_db(app, "downgrade", release)
    with app.app_context():
        Table("alembic_version", MetaData()).drop(db.engine)
    assert schema_differences(app, tables_made_by_init_db(release)) == []


def test_upgrade_from_empty_gives_exactly_the_schema_of_the_models(empty_app):
    flask_db(empty_app, "upgrade")
    assert current_revision(empty_app) == revisions(empty_app)[-1]
    assert schema_differences(empty_app) == []


@pytest.mark.parametrize("release", [FIRST_RELEASE, LAST_RELEASE], ids=["first release", "last release"])
def test_the_first_revisions_make_what_init_db_made(empty_app, release):
    flask_db(empty_app, "upgrade", release)
    assert schema_differences(empty_app, tables_made_by_init_db(release)) == []


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


@pytest.mark.parametrize("release", [LAST_RELEASE, FIRST_RELEASE], ids=["last release", "first release"])
def test_a_database_from_before_migrations_upgrades_and_nobody_is_signed_out(app, release, caplog):
    alice = AuthActions(app, app.test_client())
    alice.create_user()
    alice.login(remember=True)
    bob = AuthActions(app, app.test_client())
    bob.create_user("bob")
    bob.login("bob", "not bob's password")
    made_before_migrations(app, release)
    before = all_rows(app)
    assert all(before.values()), "users, sign-ins and security events to carry over"

    flask_db(app, "upgrade")

    assert "Tables made before migrations found" in caplog.text
    assert current_revision(app) == revisions(app)[-1]
    assert schema_differences(app) == []
    assert all_rows(app) == before
    assert alice.client.get("/dashboard").status_code == 200
    assert bob.login("bob").headers["Location"] == "/dashboard"


def test_a_half_upgraded_database_from_before_migrations_is_refused_with_the_fix(empty_app, caplog):
    # The README used to ask for two ALTER TABLE statements; this one ran only the first.
    tables = tables_made_by_init_db(FIRST_RELEASE)
    tables.tables["users"].append_column(Column("password_version", Integer, nullable=False, server_default="0"))
    with empty_app.app_context():
        tables.create_all(db.engine)
    result = empty_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 1
    assert "ALTER TABLE sign_ins ADD COLUMN password_version INTEGER NOT NULL DEFAULT 0;" in caplog.text
    assert current_revision(empty_app) is None


def test_downgrade_to_the_first_revision_and_back_keeps_every_row(app, signed_in):
    before = all_rows(app)

    flask_db(app, "downgrade", FIRST_RELEASE)
    assert current_revision(app) == FIRST_RELEASE
    assert schema_differences(app, tables_made_by_init_db(FIRST_RELEASE)) == []
    assert all_rows(app) == before

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


def test_browser_names_an_attacker_wrote_before_the_vocabulary_are_forgotten(empty_app):
    flask_db(empty_app, "upgrade", "4c9e2f7a1d3b")
    with empty_app.app_context():
        db.session.execute(
            text(
                "INSERT INTO users (id, public_id, username, password_hash, password_version, created_at) "
                "VALUES (1, 'p', 'alice', 'h', 0, '2026-11-01 00:00:00')"
            )
        )
        for number, client in enumerate(["Your account is locked call 555-0100 Bot 1", "Firefox 133 (Linux)", None]):
            db.session.execute(
                text(
                    "INSERT INTO security_events (user_id, event, created_at, client) "
                    "VALUES (1, 'login_failed', :at, :client)"
                ),
                {"at": f"2026-11-0{number + 1} 00:00:00", "client": client},
            )
        db.session.commit()

    flask_db(empty_app, "upgrade")

    with empty_app.app_context():
        clients = db.session.scalars(text("SELECT client FROM security_events ORDER BY created_at")).all()
    assert clients == [None, "Firefox 133 (Linux)", None]
