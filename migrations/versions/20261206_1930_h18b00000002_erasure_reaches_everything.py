"""erasure reaches everything: pseudonymised decision log, redacted outbox, signed statement

Revision ID: h18b00000002
Revises: f12a7b3c0002
Create Date: 2026-12-06 19:30:00.000000+00:00

Each migration must also work with the previous release's code still running (deploys
are rolling): add before you use, stop using before you drop. Only nullable columns are added
(the previous release never writes them), and the decision log's guard is widened by exactly
one kind of UPDATE, which the previous release never makes: one that sets ``pseudonymised_at``
and changes nothing but ``answers``. Every other UPDATE is still refused.

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "h18b00000002"
down_revision = "f12a7b3c0002"
branch_labels = None
depends_on = None

# The columns an erasure may not touch when it pseudonymises an entry (all but ``answers``
# and ``pseudonymised_at``).
_FROZEN = (
    "id",
    "property_id",
    "api_key_id",
    "requested_at",
    "request_id",
    "purposes",
    "item_count",
    "allowed_count",
)

_SQLITE_PSEUDONYMISE_ONLY = (
    "CREATE TRIGGER trg_decision_log_no_update BEFORE UPDATE ON decision_log "
    "WHEN NEW.pseudonymised_at IS NULL OR NOT ("
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _FROZEN)
    + ") BEGIN SELECT RAISE(ABORT, 'decision_log is append-only'); END"
)

_PG_PSEUDONYMISE_ONLY = (
    "CREATE FUNCTION consent_decision_log_pseudonymise_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.pseudonymised_at IS NOT NULL AND "
    + " AND ".join(f"NEW.{c}::text IS NOT DISTINCT FROM OLD.{c}::text" for c in _FROZEN)
    + " THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; "
    "END $$"
)


def upgrade():
    with op.batch_alter_table("decision_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pseudonymised_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("redacted_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("redact_on_settle", sa.JSON(), nullable=True))
    with op.batch_alter_table("erasure_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statement_jws", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("summary", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_decision_log_no_update")
        op.execute(_SQLITE_PSEUDONYMISE_ONLY)
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_decision_log_no_update ON decision_log")
        op.execute(_PG_PSEUDONYMISE_ONLY)
        op.execute(
            "CREATE TRIGGER trg_decision_log_no_update BEFORE UPDATE ON decision_log "
            "FOR EACH ROW EXECUTE FUNCTION consent_decision_log_pseudonymise_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_decision_log_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_decision_log_no_update ON decision_log")
        op.execute("DROP FUNCTION IF EXISTS consent_decision_log_pseudonymise_only()")
    with op.batch_alter_table("erasure_requests", schema=None) as batch_op:
        batch_op.drop_column("summary")
        batch_op.drop_column("statement_jws")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("redact_on_settle")
        batch_op.drop_column("redacted_at")
    with op.batch_alter_table("decision_log", schema=None) as batch_op:
        batch_op.drop_column("pseudonymised_at")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER trg_decision_log_no_update BEFORE UPDATE ON decision_log BEGIN "
            "SELECT RAISE(ABORT, 'decision_log is append-only'); END"
        )
    else:
        op.execute(
            "CREATE TRIGGER trg_decision_log_no_update BEFORE UPDATE ON decision_log "
            "FOR EACH ROW EXECUTE FUNCTION consent_refuse_change()"
        )
