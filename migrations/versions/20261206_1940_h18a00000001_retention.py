"""retention: purged subjects, retention overrides and cutoffs, triggers for the job's deletes

Adds subjects.purged_at, properties.retention_overrides and retention_cutoffs, and changes the
receipts' and audit log's triggers to allow the retention job's deletes (and no others).

Revision ID: h18a00000001
Revises: h18b00000002
Create Date: 2026-12-06 19:40:00.000000+00:00

Each migration must also work with the previous release's code still running (deploys
are rolling): add before you use, stop using before you drop. Here everything is new and
nullable (or has a server default), and the previous release never deletes receipts or audit
entries, so the loosened triggers change nothing for it.

Triggers: consent_receipts still refuses every UPDATE (and TRUNCATE), and refuses DELETE unless
the receipt's subject is purged (``subjects.purged_at``, set by the job in the same
transaction). audit_log still refuses every UPDATE, and refuses DELETE unless the job's
``retention_cutoffs`` row for it is armed and the entry is older than its cutoff.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h18a00000001'
down_revision = 'h18b00000002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('retention_overrides', sa.JSON(), server_default='{}', nullable=False)
        )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_delivered', ['status', 'delivered_at'], unique=False)
    op.create_table('retention_cutoffs',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('cutoff', sa.DateTime(), nullable=False),
    sa.Column('armed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_retention_cutoffs'))
    )
    _replace_guards(_SQLITE_OLD, _SQLITE_NEW, _PG_OLD_DROP, _PG_NEW)


def downgrade():
    _replace_guards(_SQLITE_NEW, _SQLITE_OLD, _PG_NEW_DROP, _PG_OLD)
    op.drop_table('retention_cutoffs')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_delivered')
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.drop_column('retention_overrides')
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_column('purged_at')


_REFUSE_RECEIPTS = "SELECT RAISE(ABORT, 'consent_receipts is append-only'); END"
_REFUSE_AUDIT = "SELECT RAISE(ABORT, 'audit_log is append-only'); END"

_SQLITE_OLD = {
    "trg_consent_receipts_no_delete": f"BEFORE DELETE ON consent_receipts BEGIN {_REFUSE_RECEIPTS}",
    "trg_audit_log_no_delete": f"BEFORE DELETE ON audit_log BEGIN {_REFUSE_AUDIT}",
}
_SQLITE_NEW = {
    "trg_consent_receipts_no_delete":
        "BEFORE DELETE ON consent_receipts WHEN NOT EXISTS (SELECT 1 FROM subjects "
        "WHERE subjects.id = OLD.subject_id AND subjects.purged_at IS NOT NULL) "
        f"BEGIN {_REFUSE_RECEIPTS}",
    "trg_audit_log_no_delete":
        "BEFORE DELETE ON audit_log WHEN NOT EXISTS (SELECT 1 FROM retention_cutoffs "
        "WHERE retention_cutoffs.kind = 'audit_log' AND retention_cutoffs.armed "
        f"AND OLD.at < retention_cutoffs.cutoff) BEGIN {_REFUSE_AUDIT}",
}

_PG_OLD = [
    "CREATE TRIGGER trg_consent_receipts_append_only BEFORE UPDATE OR DELETE "
    "ON consent_receipts FOR EACH ROW EXECUTE FUNCTION consent_refuse_change()",
    "CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION consent_refuse_change()",
]
_PG_OLD_DROP = [
    "DROP TRIGGER IF EXISTS trg_consent_receipts_append_only ON consent_receipts",
    "DROP TRIGGER IF EXISTS trg_audit_log_append_only ON audit_log",
]
_PG_NEW = [
    """CREATE FUNCTION consent_receipts_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND EXISTS (
            SELECT 1 FROM subjects WHERE id = OLD.subject_id AND purged_at IS NOT NULL
        ) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE FUNCTION consent_audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND EXISTS (
            SELECT 1 FROM retention_cutoffs
            WHERE kind = 'audit_log' AND armed AND OLD.at < cutoff
        ) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END $$""",
    "CREATE TRIGGER trg_consent_receipts_append_only BEFORE UPDATE OR DELETE "
    "ON consent_receipts FOR EACH ROW EXECUTE FUNCTION consent_receipts_guard()",
    "CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION consent_audit_log_guard()",
]
_PG_NEW_DROP = [
    *_PG_OLD_DROP,
    "DROP FUNCTION IF EXISTS consent_receipts_guard()",
    "DROP FUNCTION IF EXISTS consent_audit_log_guard()",
]


def _replace_guards(sqlite_old, sqlite_new, pg_drop, pg_create):
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in sqlite_old:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for name, body in sqlite_new.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif dialect == "postgresql":
        for statement in [*pg_drop, *pg_create]:
            op.execute(statement)
    else:
        raise NotImplementedError(f"no append-only guards for {dialect}")
