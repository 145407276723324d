-- assay workspace schema, version 10: evidence in groups (the pages and collections of an
-- e-portfolio's export), and the links an assessor makes between evidence and criteria — claims
-- the learner did not make (a LEAP2A export makes none), kept apart from the learner's own.
-- The column `evidence.group_title TEXT` is added by store::migrate before this runs, only where
-- it is missing: SQLite has no ADD COLUMN IF NOT EXISTS, and a migration may run again over a
-- workspace whose version number was lowered behind assay's back.

CREATE TABLE IF NOT EXISTS evidence_links (
    portfolio_pk INTEGER NOT NULL REFERENCES portfolios (pk),
    evidence_id  TEXT NOT NULL,
    criterion    TEXT NOT NULL,
    by_user      TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (portfolio_pk, evidence_id, criterion)
) WITHOUT ROWID;
