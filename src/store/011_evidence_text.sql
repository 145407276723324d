-- assay workspace schema, version 11: the text of documents (PDF, DOCX, ODT), extracted at
-- import and kept beside the original. `evidence.text_sha TEXT` names the blob holding the text
-- (NULL: not a document, or its text could not be taken) and `evidence.text_note TEXT` says what
-- it is ("PDF, 3 pages") or why there is none ("could not extract: …"). Both are added by
-- store::migrate before this runs, only where missing (see version 10). Both are recorded in the
-- import's record, and the text's blob like every blob, so `audit verify` vouches for them.

-- The words of those texts, for search (`assay search`, the workbench's `/`): derived from the
-- texts at import, like `search`, so not a fact of the record. The first 64 KiB of each text.
CREATE VIRTUAL TABLE IF NOT EXISTS document_words USING fts5(
    words,
    portfolio_pk UNINDEXED,
    evidence_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Comments an assessor saved to their comment bank ("save this as a comment"), per rubric and
-- criterion: offered first among their own in the bank. Recorded (`bank.save`, `bank.remove`)
-- and vouched for.
CREATE TABLE IF NOT EXISTS saved_comments (
    owner     TEXT NOT NULL,
    rubric_pk INTEGER NOT NULL REFERENCES rubrics (pk),
    criterion TEXT NOT NULL,
    text      TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (owner, rubric_pk, criterion, text)
) WITHOUT ROWID;
