"""A random public_id for every account

Revision ID: 4c9e2f7a1d3b
Revises: b83e5a17d2c4
Created: 2026-11-30 06:30:00

Device cookies and rate-limit keys name an account by users.public_id, 128 random
bits, instead of its integer id, which SQLite hands to the next account after a
deletion. Existing accounts get a random value each. Device cookies made before this
revision named the integer id; they no longer match, so a browser is a known device
again after its next sign-in. Sign-ins and sessions are untouched: nobody is signed out.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "4c9e2f7a1d3b"
down_revision = "b83e5a17d2c4"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("public_id", sa.String))


def upgrade():
    # On SQLite a batch change copies the table, and the copy would lose the expression
    # index (SQLite cannot reflect it): take it off first, put it back after.
    op.drop_index("uq_users_username_lower", table_name="users")
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=22), nullable=True))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id).values(public_id=secrets.token_urlsafe(16)))
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.String(length=22), nullable=False)
        batch_op.create_unique_constraint("uq_users_public_id", ["public_id"])
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def downgrade():
    op.drop_index("uq_users_username_lower", table_name="users")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint("uq_users_public_id", type_="unique")
        batch_op.drop_column("public_id")
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
