-- assay workspace schema, version 11: the text of documents (PDF, DOCX, ODT), extracted at
-- import and kept beside the original. `evidence.text_sha TEXT` names the blob holding the text
-- (NULL: not a document, or its text could not be taken) and `evidence.text_note TEXT` says what
-- it is ("PDF, 3 pages") or why there is none ("could not extract: …"). Both are added by
-- store::migrate before this runs, only where missing (see version 10). Both are recorded in the
-- import's record, and the text's blob like every blob, so `audit verify` vouches for them.

-- The words of those texts, for search (`assay search`, the workbench's `/`): each distinct word
-- of a current revision's document text (its first 64 KiB), folded to lower-case ASCII, once per
-- document. Derived from the vouched texts and rebuilt by `audit verify`, which reports any row
-- that differs. A prefix of a word is a range of the key.
CREATE TABLE IF NOT EXISTS document_words (
    word         TEXT NOT NULL,
    portfolio_pk INTEGER NOT NULL REFERENCES portfolios (pk),
    evidence_id  TEXT NOT NULL,
    PRIMARY KEY (word, portfolio_pk, evidence_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS document_words_of ON document_words (portfolio_pk, evidence_id);

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
