"""Remember tokens rotate on every restore; a replaced one seen again ends the sign-in

Revision ID: e2a7c41f9b58
Revises: bda75d696c65
Created: 2026-12-04 19:00:00

``sign_ins`` gets ``series_hash`` (unique: a restore looks a replaced token up by its
series), ``previous_token_hash`` and ``token_rotated_at``, all empty for every existing
sign-in; nobody is signed out. A remember cookie issued before this revision has no
series: it restores once more and is then replaced by one that has
(app/sign_ins.py ``_restore``).
"""

import sqlalchemy as sa
from alembic import op

revision = "e2a7c41f9b58"
down_revision = "bda75d696c65"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.add_column(sa.Column("series_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("previous_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("token_rotated_at", sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint("uq_sign_ins_series_hash", ["series_hash"])


def downgrade():
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.drop_constraint("uq_sign_ins_series_hash", type_="unique")
        batch_op.drop_column("token_rotated_at")
        batch_op.drop_column("previous_token_hash")
        batch_op.drop_column("series_hash")
