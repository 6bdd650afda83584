"""web sessions: server-side records of admin and preferences sessions

Revision ID: e13c3f9a0003
Revises: c13a1d7e0001
Create Date: 2026-12-06 17:20:00.000000+00:00

Each migration must also work with the previous release's code still running (deploys
are rolling): add before you use, stop using before you drop. A new table only: the cookies
the previous release issued stop opening a session once the new code runs (people sign in
again once).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e13c3f9a0003'
down_revision = 'c13a1d7e0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('web_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('admin_user_id', sa.Uuid(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('property_id', sa.Integer(), nullable=True),
    sa.Column('identity_id', sa.Uuid(), nullable=True),
    sa.Column('visitor_id', sa.Uuid(), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('idle_expires_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('admin', 'preferences')", name=op.f('ck_web_sessions_kind')),
    sa.ForeignKeyConstraint(['admin_user_id'], ['admin_users.id'], name=op.f('fk_web_sessions_admin_user_id_admin_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_web_sessions_identity_id_identities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_web_sessions_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_admin_user_id'), ['admin_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_identity_id'), ['identity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_idle_expires_at'), ['idle_expires_at'], unique=False)
        batch_op.create_index('ix_web_sessions_visitor', ['property_id', 'visitor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_web_sessions_visitor')
        batch_op.drop_index(batch_op.f('ix_web_sessions_idle_expires_at'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_identity_id'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_admin_user_id'))

    op.drop_table('web_sessions')
