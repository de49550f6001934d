"""The schema of the first release: users, sign-ins, security events

Revision ID: 6f1d0c9a4b27
Revises: nothing, the first revision
Created: 2026-11-30 04:20:21.599269

Exactly what ``flask init-db`` (``db.create_all()``) made before the password_version
columns, so a database made by it and one made by this revision are the same
(env.py stamps the former with this revision instead of running it).
"""

import sqlalchemy as sa
from alembic import op

revision = "6f1d0c9a4b27"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # "Alice" and "alice" are the same account. An expression index: autogenerate
    # cannot write it on SQLite, and a table copied in batch mode there loses it.
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)

    op.create_table(
        "sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=22), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("remember", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("client", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        # Unnamed, as create_all made them: PostgreSQL named them sign_ins_*_key.
        sa.UniqueConstraint("public_id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_sign_ins_user_id", "sign_ins", ["user_id"])

    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("client", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_security_events_created_at", "security_events", ["created_at"])
    op.create_index("ix_security_events_user_id", "security_events", ["user_id"])


def downgrade():
    op.drop_table("security_events")
    op.drop_table("sign_ins")
    op.drop_table("users")
