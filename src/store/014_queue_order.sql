-- assay workspace schema, version 14: the workbench's queue at any size. Its first screen is read
-- through indexes in the queue's order — the person's own work, then a status at a time, each by
-- id — and the count of each status is kept beside the portfolios, by triggers in the same
-- transaction as each change (derived: `audit verify` counts again). As in version 8, nothing
-- here is touched when released decisions are moved to `exported` (most of a large workspace):
-- the indexes with the status in them hold the portfolios still in the workflow only, and the
-- count triggers fire for a change that leaves or enters the workflow.
DROP INDEX IF EXISTS portfolios_open;
CREATE INDEX IF NOT EXISTS portfolios_open ON portfolios (status, id)
WHERE status = 'new' OR status = 'in_progress' OR status = 'submitted' OR status = 'sampled'
   OR status = 'moderated';
CREATE INDEX IF NOT EXISTS portfolios_assessor_open ON portfolios (assessor, status, id)
WHERE assessor IS NOT NULL AND (status = 'new' OR status = 'in_progress' OR status = 'submitted'
   OR status = 'sampled' OR status = 'moderated');
CREATE INDEX IF NOT EXISTS portfolios_marker_open ON portfolios (first_marker, status, id)
WHERE first_marker IS NOT NULL AND (status = 'new' OR status = 'in_progress' OR status = 'submitted'
   OR status = 'sampled' OR status = 'moderated');
CREATE INDEX IF NOT EXISTS portfolios_assessor ON portfolios (assessor, id) WHERE assessor IS NOT NULL;
CREATE INDEX IF NOT EXISTS portfolios_marker ON portfolios (first_marker, id) WHERE first_marker IS NOT NULL;
CREATE TABLE IF NOT EXISTS status_counts (
    status TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;
DELETE FROM status_counts;
INSERT INTO status_counts (status, n) SELECT status, count(*) FROM portfolios GROUP BY status;
CREATE TRIGGER IF NOT EXISTS status_counts_insert AFTER INSERT ON portfolios BEGIN
    INSERT INTO status_counts (status, n) VALUES (new.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS status_counts_delete AFTER DELETE ON portfolios BEGIN
    UPDATE status_counts SET n = n - 1 WHERE status = old.status;
END;
CREATE TRIGGER IF NOT EXISTS status_counts_update AFTER UPDATE OF status ON portfolios
WHEN old.status IS NOT new.status BEGIN
    UPDATE status_counts SET n = n - 1 WHERE status = old.status;
    INSERT INTO status_counts (status, n) VALUES (new.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
