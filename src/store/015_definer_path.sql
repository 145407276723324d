-- Version 15: on a server, the functions that run with their owner's rights search the
-- workspace's schema and then pg_temp (pg_015_definer_path.sql). The file has no such
-- functions: nothing changes here but the version.
SELECT 1;
