"""scan reports: stored, signed compliance scans

Revision ID: i15s00000001
Revises: h18c00000003
Create Date: 2026-12-15 12:00:00.000000+00:00

Adds ``scan_reports`` (one row per scan run of ``consent-service scan`` or the worker's
schedule). Only a new table: the previous release never reads or writes it.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i15s00000001'
down_revision = 'i16a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scan_reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('policy_versions', sa.JSON(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('violations', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('observed', sa.Integer(), nullable=False),
    sa.Column('unscanned', sa.JSON(), nullable=False),
    sa.Column('report_json', sa.Text(), nullable=True),
    sa.Column('report_sha256', sa.String(length=64), nullable=True),
    sa.Column('kid', sa.String(length=64), nullable=True),
    sa.Column('jws', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['kid'], ['signing_keys.kid'], name=op.f('fk_scan_reports_kid_signing_keys'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_scan_reports_property_id_properties'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_reports'))
    )
    with op.batch_alter_table('scan_reports', schema=None) as batch_op:
        batch_op.create_index('ix_scan_reports_property_started', ['property_id', 'started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('scan_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_reports_property_started')
    op.drop_table('scan_reports')
