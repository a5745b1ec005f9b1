"""Tamper guards beyond rows: no TRUNCATE of the append-only tables, and a chain head that
only moves forward.

Row triggers (0001, 0003) refuse UPDATE and DELETE, but TRUNCATE passes them on
PostgreSQL; a statement trigger refuses it. The head row, which verification compares
with the last event, can no longer be deleted or moved back (SQLite has no TRUNCATE: its
DELETE without WHERE fires the row triggers). A role that owns the tables can still drop
every guard; the platform's runtime role owns nothing (docs/security.md), and the chain
anchors outside the database catch what an owner does.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NO_TRUNCATE = ("audit_events", "decisions", "model_stage_changes", "audit_head")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION bankml_refuse_truncate() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME;
            END $$ LANGUAGE plpgsql
        """)
        for table in NO_TRUNCATE:
            op.execute(f"""
                CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION bankml_refuse_truncate()
            """)
        op.execute("""
            CREATE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' OR NEW.sequence <= OLD.sequence THEN
                RAISE EXCEPTION 'audit_head is append-only: it only moves forward';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
            FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()
        """)
        return
    op.execute("""
        CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'audit_head is append-only: it only moves forward'); END
    """)
    op.execute("""
        CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
        WHEN NEW.sequence <= OLD.sequence
        BEGIN SELECT RAISE(ABORT, 'audit_head is append-only: it only moves forward'); END
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward_only()")
        for table in NO_TRUNCATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bankml_refuse_truncate()")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_head_forward_only")
    op.execute("DROP TRIGGER IF EXISTS audit_head_no_delete")
