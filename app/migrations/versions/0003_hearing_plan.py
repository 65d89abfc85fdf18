"""hearing plan: the parameters of each registrant's selection reason

Revision ID: 0003_hearing_plan
Revises: 0004_live_notes
Create Date: 2026-11-26 07:14:20.814125

Chained after 0004_live_notes, which was committed first, so that there is one head.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003_hearing_plan"
down_revision = "0004_live_notes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('speaker_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('selection_reason_params', sa.JSON(), nullable=False,
                                      server_default='{}'))


def downgrade():
    with op.batch_alter_table('speaker_registrations', schema=None) as batch_op:
        batch_op.drop_column('selection_reason_params')
