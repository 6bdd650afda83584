"""regime texts and affected purposes: banner words per regime, material changes by purpose

Revision ID: f12a7b3c0001
Revises: e13c3f9a0003
Create Date: 2026-12-06 19:00:00.000000+00:00

Each migration must also work with the previous release's code still running (deploys
are rolling): add before you use, stop using before you drop. Two new columns with empty
defaults: the previous release never reads them, and an empty list of affected purposes
means "every purpose", which is what a material version meant before.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f12a7b3c0001'
down_revision = 'e13c3f9a0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('properties') as batch:
        batch.add_column(sa.Column('regime_texts', sa.JSON(), server_default='{}', nullable=False))
    with op.batch_alter_table('policy_versions') as batch:
        batch.add_column(
            sa.Column('affected_purposes', sa.JSON(), server_default='[]', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('policy_versions') as batch:
        batch.drop_column('affected_purposes')
    with op.batch_alter_table('properties') as batch:
        batch.drop_column('regime_texts')
