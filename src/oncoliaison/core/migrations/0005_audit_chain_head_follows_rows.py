"""The database moves the audit chain head with every row it stores: appending a record is one INSERT
(the head's sequence number and hash follow from the trigger, in the same statement), not an INSERT and
an UPDATE.  The head stays what ``audit-verify`` and the checkpoints compare the log with."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION core_auditevent_move_chain_head() RETURNS trigger AS $$
BEGIN
    UPDATE core_auditchainhead AS head SET last_seq = last.seq, last_hash = last.hash
      FROM (SELECT seq, hash FROM appended ORDER BY seq DESC LIMIT 1) AS last
     WHERE head.id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_moves_chain_head
    AFTER INSERT ON core_auditevent REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_move_chain_head();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS core_auditevent_moves_chain_head ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_move_chain_head();
"""
SQLITE_FORWARD = (
    "CREATE TRIGGER core_auditevent_moves_chain_head AFTER INSERT ON core_auditevent "
    "BEGIN UPDATE core_auditchainhead SET last_seq = NEW.seq, last_hash = NEW.hash WHERE id = 1; END;"
)
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS core_auditevent_moves_chain_head;"


def _for_vendor(sql: dict[str, str]):
    def run(apps, schema_editor):
        statement = sql.get(schema_editor.connection.vendor)
        if statement:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0004_idempotency_record")]
    operations = [migrations.RunPython(_for_vendor({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
                                       _for_vendor({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}))]
