-- assay workspace schema, version 6: export items in one B-tree, keyed the way they are looked
-- up ("was this portfolio exported in this format?"), instead of a table, its key's index and a
-- second index: a third of the writing when a batch of 100,000 is recorded.
CREATE TABLE export_items_by_format (
    batch_pk     INTEGER NOT NULL REFERENCES export_batches (pk),
    portfolio_pk INTEGER NOT NULL REFERENCES portfolios (pk),
    format       TEXT NOT NULL,
    PRIMARY KEY (format, portfolio_pk, batch_pk)
) WITHOUT ROWID;
INSERT INTO export_items_by_format (batch_pk, portfolio_pk, format)
SELECT batch_pk, portfolio_pk, format FROM export_items;
DROP TABLE export_items;
ALTER TABLE export_items_by_format RENAME TO export_items;
