-- assay workspace schema, version 5: the levels of every portfolio's marks in one index, in
-- portfolio order, so that a CSV export reads them without visiting the marks themselves (their
-- feedback makes the rows long). It serves every lookup that `marks_portfolio` did.
DROP INDEX IF EXISTS marks_portfolio;
CREATE INDEX IF NOT EXISTS marks_levels ON marks (portfolio_pk, phase, criterion, level);
