-- assay workspace schema, version 2: indexes for moderation and export at scale.
CREATE INDEX IF NOT EXISTS decisions_rubric ON decisions (rubric_pk, phase);
CREATE INDEX IF NOT EXISTS marks_portfolio ON marks (portfolio_pk, phase);
