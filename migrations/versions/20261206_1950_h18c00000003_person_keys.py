"""person keys: identities' customer reference sealed and found by blind index

Revision ID: h18c00000003
Revises: h18a00000001
Create Date: 2026-12-06 19:50:00.000000+00:00

Adds ``customer_ref_ciphertext`` (sealed with the person's own key, kept in the key store
outside this database) and ``customer_ref_index`` (keyed HMAC, unique per property). Columns
and a constraint are only added, nothing is dropped or rewritten: the previous release keeps
reading and writing the plaintext ``customer_ref`` beside this schema. Once no process of it
runs, ``consent-service keystore convert`` moves every row to the new form (idempotent); a
later release drops ``customer_ref``.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h18c00000003'
down_revision = 'h18a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_ref_ciphertext', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('customer_ref_index', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_identities_property_id_customer_ref_index'), ['property_id', 'customer_ref_index']
        )


def downgrade():
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_identities_property_id_customer_ref_index'), type_='unique')
        batch_op.drop_column('customer_ref_index')
        batch_op.drop_column('customer_ref_ciphertext')
