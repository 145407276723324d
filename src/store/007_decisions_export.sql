-- assay workspace schema, version 7: who decided each portfolio and when, in portfolio order, so
-- that a CSV export reads the deciders in one pass beside the portfolios instead of looking up
-- two decisions (index, then row) per portfolio.
CREATE INDEX IF NOT EXISTS decisions_export ON decisions (portfolio_pk, phase, by_user, at);
