-- assay workspace schema, version 9: the chain vouches for the whole record. The workbench's
-- remembered settings (not facts of the record) move out of `meta` into a table of their own,
-- which `audit verify` leaves aside; everything else is checked against the chain.
CREATE TABLE IF NOT EXISTS ui_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT OR REPLACE INTO ui_state (key, value)
SELECT key, value FROM meta WHERE key NOT IN ('workspace_id', 'salt', 'created_at');
DELETE FROM meta WHERE key NOT IN ('workspace_id', 'salt', 'created_at');
