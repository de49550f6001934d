"""Email addresses and the tokens of emailed links

Revision ID: c5fe8fbd4671
Revises: 9a1b7e3c5d20
Created: 2026-12-03 07:55:25

Two new tables, nothing else changes: nobody is signed out. ``email_addresses`` holds
the one confirmed address of an account, unique without regard to case (an expression
index, as for usernames). ``email_tokens`` holds the SHA-256 of the secret in every
emailed link (confirm an address, undo a change, reset a password, "this wasn't me")
with what the link is bound to and when it expires.
"""

import sqlalchemy as sa
from alembic import op

revision = "c5fe8fbd4671"
down_revision = "9a1b7e3c5d20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "email_addresses",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("uq_email_addresses_address_lower", "email_addresses", [sa.text("lower(address)")], unique=True)
    op.create_table(
        "email_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("password_version", sa.Integer(), nullable=True),
        sa.Column("sign_in_public_id", sa.String(length=22), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_email_tokens_expires_at", "email_tokens", ["expires_at"])
    op.create_index("ix_email_tokens_user_id", "email_tokens", ["user_id"])


def downgrade():
    op.drop_table("email_tokens")
    op.drop_table("email_addresses")
