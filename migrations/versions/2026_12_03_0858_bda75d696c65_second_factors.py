"""Second factors: authenticator apps, passkeys, recovery codes, and the factor of each sign-in

Revision ID: bda75d696c65
Revises: c5fe8fbd4671
Created: 2026-12-03 08:58:07

Three new tables and one new column; nobody is signed out. ``authenticators`` holds one
authenticator app (TOTP) per account: its secret encrypted with a key derived from
the secret key, and the time step of the last code accepted (so no code works twice).
``passkeys`` holds each passkey's credential id and public key (nothing secret), its
signature counter and the name its owner gave it. ``recovery_codes`` holds the SHA-256
of each unused recovery code. ``sign_ins`` gets ``second_factor``: which factor
completed the sign-in, empty for every existing one (they were password sign-ins).
"""

import sqlalchemy as sa
from alembic import op

revision = "bda75d696c65"
down_revision = "c5fe8fbd4671"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "authenticators",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("encrypted_secret", sa.String(length=255), nullable=False),
        sa.Column("last_used_step", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])
    op.create_table(
        "passkeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=22), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credential_id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_passkeys_user_id", "passkeys", ["user_id"])
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.add_column(sa.Column("second_factor", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.drop_column("second_factor")
    op.drop_table("passkeys")
    op.drop_table("recovery_codes")
    op.drop_table("authenticators")
