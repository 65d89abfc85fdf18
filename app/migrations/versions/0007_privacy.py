"""privacy and abuse: deleted accounts, adoption date, per-draft question, comment origin

Drafts adopted before this migration take their adoption date from the audit log (the last
status change of an adopted draft is its adoption), or the migration's time if none is
logged, so that no retention period starts earlier than it can be shown to have.

Revision ID: 0007_privacy
Revises: 0006_opinions
Create Date: 2026-11-26 10:55:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_privacy"
down_revision = "0006_opinions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("adopted_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("challenge_required", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=16), nullable=False,
                                      server_default=""))

    now = datetime.now(UTC).replace(tzinfo=None)
    op.execute(sa.text(
        "UPDATE drafts SET adopted_at = COALESCE("
        "(SELECT MAX(audit_log.created_at) FROM audit_log WHERE audit_log.action = 'draft.status'"
        " AND audit_log.object_type = 'drafts' AND audit_log.object_id = drafts.id), :now)"
        " WHERE status = 'adopted'").bindparams(now=now))


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("origin")

    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("challenge_required")
        batch_op.drop_column("adopted_at")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
