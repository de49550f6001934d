"""Remember tokens rotate on every restore; a replaced one seen again ends the sign-in

Revision ID: e2a7c41f9b58
Revises: bda75d696c65
Created: 2026-12-04 19:00:00

``sign_ins`` gets ``previous_token_hash`` (indexed: a restore looks it up) and
``token_rotated_at``, both empty for every existing sign-in; nobody is signed out.
A remember cookie issued before this revision restores once more and is then
replaced (app/sign_ins.py ``_restore``).
"""

import sqlalchemy as sa
from alembic import op

revision = "e2a7c41f9b58"
down_revision = "bda75d696c65"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.add_column(sa.Column("previous_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("token_rotated_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_sign_ins_previous_token_hash", ["previous_token_hash"])


def downgrade():
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.drop_index("ix_sign_ins_previous_token_hash")
        batch_op.drop_column("token_rotated_at")
        batch_op.drop_column("previous_token_hash")
