-- Server schema, version 15 (as the file's 015_definer_path.sql): the released portfolios by id
-- for the queue's first screen; and every function that runs with its owner's rights (SECURITY
-- DEFINER) searches the workspace's schema and then pg_temp, named last. Before, each kept the
-- search path of the session that made it ("$user", public), and PostgreSQL searches a
-- session's temporary schema first for tables when the path does not name it: anyone who may
-- connect could make a temporary table called users, audit or status_counts and have the
-- owner's function read or write that instead (and so pass for a lead). Made workspaces get
-- the same path when they are created (see Store::migrate_server); this brings older ones up.
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = current_schema() AND p.prosecdef
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END
$$;
CREATE INDEX portfolios_released ON portfolios (id COLLATE "C") WHERE status = 'released';
