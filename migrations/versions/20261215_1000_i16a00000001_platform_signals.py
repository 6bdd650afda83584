"""platform signals: each purpose's mapping to the other ad and shop platforms' consent
signals, and each property's enabled platforms

Revision ID: i16a00000001
Revises: h18c00000003
Create Date: 2026-12-15 10:00:00.000000+00:00

Adds ``purposes.platform_signals`` ({platform: [signal]}) and ``properties.platforms`` (the
enabled ones, none by default). Existing purposes get the default mapping derived from their
Google Consent Mode types and US opt-out categories
(``properties.platforms.default_platform_signals``), so a shop that enables a platform later
starts from the mapping its Consent Mode types and categories already express; no
property enables any platform here, so no banner changes and no cache needs a new version.
Rolling deploys: columns are only added, with server defaults; the previous release never
reads them.

"""
from alembic import op
import sqlalchemy as sa

from consent_service.properties.platforms import default_platform_signals


# revision identifiers, used by Alembic.
revision = 'i16a00000001'
down_revision = 'h18c00000003'
branch_labels = None
depends_on = None

purposes = sa.table(
    'purposes',
    sa.column('id', sa.Integer),
    sa.column('consent_mode', sa.JSON),
    sa.column('opt_out_categories', sa.JSON),
    sa.column('platform_signals', sa.JSON),
)


def upgrade():
    with op.batch_alter_table('purposes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('platform_signals', sa.JSON(), server_default='{}', nullable=False)
        )
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platforms', sa.JSON(), server_default='[]', nullable=False))
    connection = op.get_bind()
    for purpose_id, consent_mode, opt_out_categories in connection.execute(
        sa.select(purposes.c.id, purposes.c.consent_mode, purposes.c.opt_out_categories)
    ).all():
        connection.execute(
            sa.update(purposes)
            .where(purposes.c.id == purpose_id)
            .values(
                platform_signals=default_platform_signals(
                    consent_mode or [], opt_out_categories or []
                )
            )
        )


def downgrade():
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.drop_column('platforms')
    with op.batch_alter_table('purposes', schema=None) as batch_op:
        batch_op.drop_column('platform_signals')
