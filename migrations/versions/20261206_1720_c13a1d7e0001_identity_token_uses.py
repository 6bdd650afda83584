"""identity token uses

Revision ID: c13a1d7e0001
Revises: 167d2f7c601b
Create Date: 2026-12-06 17:20:00.000000+00:00

Identity tokens become single use: each redeemed token's nonce is kept until the token
would have expired. A new table only, so the previous release keeps running beside it.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c13a1d7e0001'
down_revision = '167d2f7c601b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_token_uses',
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_identity_token_uses_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('property_id', 'nonce', name=op.f('pk_identity_token_uses'))
    )
    with op.batch_alter_table('identity_token_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_token_uses_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('identity_token_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_token_uses_expires_at'))

    op.drop_table('identity_token_uses')
