-- Server schema, version 14 (as the file's 014_queue_order.sql): the queue's first screen read
-- through indexes in its order (ids in byte order, as the queue sorts them), and the count of
-- each status kept beside the portfolios by triggers in the same transaction as each change.
-- Applied after pg_schema.sql and pg_access.sql when a workspace is made, and on its own to a
-- workspace of version 13.
DROP INDEX IF EXISTS portfolios_open;
CREATE INDEX portfolios_open ON portfolios (status, id COLLATE "C")
WHERE status = 'new' OR status = 'in_progress' OR status = 'submitted' OR status = 'sampled'
   OR status = 'moderated';
CREATE INDEX portfolios_assessor_open ON portfolios (assessor, status, id COLLATE "C")
WHERE assessor IS NOT NULL AND (status = 'new' OR status = 'in_progress' OR status = 'submitted'
   OR status = 'sampled' OR status = 'moderated');
CREATE INDEX portfolios_marker_open ON portfolios (first_marker, status, id COLLATE "C")
WHERE first_marker IS NOT NULL AND (status = 'new' OR status = 'in_progress' OR status = 'submitted'
   OR status = 'sampled' OR status = 'moderated');
CREATE INDEX portfolios_assessor ON portfolios (assessor, id COLLATE "C") WHERE assessor IS NOT NULL;
CREATE INDEX portfolios_marker ON portfolios (first_marker, id COLLATE "C") WHERE first_marker IS NOT NULL;
CREATE INDEX portfolios_id_c ON portfolios (id COLLATE "C");
CREATE TABLE status_counts (
    status TEXT PRIMARY KEY,
    n      BIGINT NOT NULL
);
INSERT INTO status_counts (status, n) SELECT status, count(*) FROM portfolios GROUP BY status;
-- (runs with its owner's rights: whoever changes a portfolio's status changes its count, which
-- nobody may write directly)
CREATE FUNCTION assay_count_status() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO status_counts AS c (status, n) VALUES (NEW.status, 1)
            ON CONFLICT (status) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION assay_count_status() FROM PUBLIC;
CREATE TRIGGER status_counts_insert_delete AFTER INSERT OR DELETE ON portfolios
    FOR EACH ROW EXECUTE FUNCTION assay_count_status();
CREATE TRIGGER status_counts_update AFTER UPDATE OF status ON portfolios
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION assay_count_status();
ALTER TABLE status_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON status_counts FOR SELECT USING ((SELECT assay_is_person()));
GRANT SELECT ON status_counts TO PUBLIC;
