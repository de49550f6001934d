"""password_version on users and sign-ins

Revision ID: b83e5a17d2c4
Revises: 6f1d0c9a4b27
Created: 2026-11-30 04:21:23.647199

A password change counts up users.password_version; a sign-in whose
password_version is older was made with the old password and is dead. Existing
rows get 0 on both sides, so every sign-in stays valid: nobody is signed out.
"""

import sqlalchemy as sa
from alembic import op

revision = "b83e5a17d2c4"
down_revision = "6f1d0c9a4b27"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("users", "sign_ins"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("password_version", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.drop_column("password_version")
    # On SQLite, dropping a column copies the table, and the copy would lose the
    # expression index (SQLite cannot reflect it): take it off first, put it back after.
    op.drop_index("uq_users_username_lower", table_name="users")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("password_version")
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
