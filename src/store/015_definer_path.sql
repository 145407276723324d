-- Version 15: the released portfolios by id, for the queue's first screen (the open ones have
-- portfolios_open; without this, a screen that reaches the released ones walked the ids of
-- every portfolio to find a few among many exported). On a server, too, the functions that run
-- with their owner's rights search the workspace's schema and then pg_temp
-- (pg_015_definer_path.sql); the file has no such functions.
CREATE INDEX IF NOT EXISTS portfolios_released ON portfolios (id) WHERE status = 'released';
