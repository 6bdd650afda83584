"""fill regime texts: each existing property gets words per regime and the new shared words

Revision ID: f12a7b3c0002
Revises: f12a7b3c0001
Create Date: 2026-12-06 19:10:00.000000+00:00

A data migration rather than a fallback when a banner is read: what a visitor sees is then
exactly what the admin's Properties page shows and edits, and a later release of the built-in
words (consent_service/banner/default_texts.toml) never changes a shop's banner behind its back.

For each property whose regime texts are empty:
- opt-in keeps the property's own title, description, accept_all and reject_all: the words it
  showed everyone so far were written for a consent banner (accept, reject, choose);
- opt-out and notice get the built-in words, since the shop's own ones may say "with your
  permission" or name a "reject all" that these regimes do not have;
- the new shared keys (gpc_status, reoptin_confirm, confirm) are added where missing.
Built-in words go to each language that has them (de-CH takes de); a default language without
them gets the English ones (an empty button would be worse; the admin sees them and can
translate); any other language falls back to the default one when shown, as before.

Rolling deploys: the previous release reads only banner_texts, which keeps every key it knew.
The config_version of every filled property is bumped so that banner caches refresh.

"""
from alembic import op
import sqlalchemy as sa

from consent_service.banner.default_texts import completed
from consent_service.banner.default_texts import completed_regime_texts
from consent_service.banner.default_texts import default_texts
from consent_service.properties.settings import REGIME_TEXT_ORDER
from consent_service.jurisdictions.rules import Regime


# revision identifiers, used by Alembic.
revision = 'f12a7b3c0002'
down_revision = 'f12a7b3c0001'
branch_labels = None
depends_on = None

NEW_SHARED_KEYS = ('gpc_status', 'reoptin_confirm', 'confirm')

properties = sa.table(
    'properties',
    sa.column('id', sa.Integer),
    sa.column('default_locale', sa.String),
    sa.column('locales', sa.JSON),
    sa.column('banner_texts', sa.JSON),
    sa.column('regime_texts', sa.JSON),
    sa.column('config_version', sa.Integer),
)


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            properties.c.id,
            properties.c.default_locale,
            properties.c.locales,
            properties.c.banner_texts,
            properties.c.regime_texts,
        )
    ).all()
    for row in rows:
        if row.regime_texts:
            continue  # already has words per regime: they are the admin's
        banner_texts = row.banner_texts or {}
        locales = list(dict.fromkeys([row.default_locale, *(row.locales or [])]))
        where = {'locales': locales, 'default_locale': row.default_locale}
        own_opt_in = {
            locale: {
                key: text
                for key, text in texts.items()
                if key in REGIME_TEXT_ORDER[Regime.OPT_IN] and text
            }
            for locale, texts in banner_texts.items()
        }
        connection.execute(
            sa.update(properties)
            .where(properties.c.id == row.id)
            .values(
                regime_texts=completed_regime_texts({'opt_in': own_opt_in}, **where),
                banner_texts=completed(
                    banner_texts, default_texts().shared, NEW_SHARED_KEYS, **where
                ),
                config_version=properties.c.config_version + 1,
            )
        )


def downgrade():
    # The filled words stay: the previous release ignores regime_texts and the new keys, and
    # emptying them could throw away what an admin wrote since.
    pass
