"""Remember tokens rotate on every restore; a replaced one seen again ends the sign-in

Revision ID: e2a7c41f9b58
Revises: bda75d696c65
Created: 2026-12-04 19:00:00

``sign_ins`` gets ``series_hash`` (unique: a restore looks a replaced token up by its
series), ``previous_token_hash`` (indexed: a cookie from before this revision is looked
up by it once replaced) and ``token_rotated_at``, all empty for every existing
sign-in; nobody is signed out. A remember cookie issued before this revision has no
series: it restores once more and is then replaced by one that has
(app/sign_ins.py ``_restore``). The new table ``ended_sign_ins`` keeps, until it would
have expired, the series of an ended sign-in that a restore had given a new token, so
that an older token of it is still known as a copy.
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
    # A unique index, not a constraint: SQLite adds it without copying the table.
    op.create_index("ix_sign_ins_series_hash", "sign_ins", ["series_hash"], unique=True)
    op.create_index("ix_sign_ins_previous_token_hash", "sign_ins", ["previous_token_hash"])
    op.create_table(
        "ended_sign_ins",
        sa.Column("series_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_rotated_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("series_hash"),
    )
    op.create_index("ix_ended_sign_ins_user_id", "ended_sign_ins", ["user_id"])


def downgrade():
    op.drop_index("ix_ended_sign_ins_user_id", table_name="ended_sign_ins")
    op.drop_table("ended_sign_ins")
    op.drop_index("ix_sign_ins_previous_token_hash", table_name="sign_ins")
    op.drop_index("ix_sign_ins_series_hash", table_name="sign_ins")
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.drop_column("token_rotated_at")
        batch_op.drop_column("previous_token_hash")
        batch_op.drop_column("series_hash")
