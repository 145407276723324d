-- assay workspace schema, version 3: the fuzzy-search text of each portfolio in a table of its
-- own. It is the longest thing in a portfolio's row (ids, names, rubric and every evidence title,
-- also folded to ASCII), so every full read of `portfolios` — the queue, `list`, export, release —
-- read it for nothing; only search and the queue's filter need it.
CREATE TABLE search (
    portfolio_pk INTEGER PRIMARY KEY REFERENCES portfolios (pk),
    text         TEXT NOT NULL
);
INSERT INTO search (portfolio_pk, text) SELECT pk, search_text FROM portfolios;
ALTER TABLE portfolios DROP COLUMN search_text;
-- The rows are much shorter now; write them again so that they fill their pages. The other
-- tables' references to them are checked at commit, when every row is back.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE portfolios_rewrite AS SELECT * FROM portfolios;
DELETE FROM portfolios;
INSERT INTO portfolios SELECT * FROM portfolios_rewrite;
DROP TABLE portfolios_rewrite;
