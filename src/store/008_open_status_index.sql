-- assay workspace schema, version 8: the status index holds the portfolios still in the workflow
-- only. Released and exported decisions are most of a large workspace and are not looked up by
-- status; leaving them out means an export's move of 100,000 decisions from `released` to
-- `exported` does not touch the index at all. Queries for one of these statuses use it (the
-- planner sees `status = 'submitted'` implies the condition); the condition is spelled as ORs
-- for that reason.
DROP INDEX IF EXISTS portfolios_status;
CREATE INDEX IF NOT EXISTS portfolios_open ON portfolios (status)
WHERE status = 'new' OR status = 'in_progress' OR status = 'submitted' OR status = 'sampled'
   OR status = 'moderated';
