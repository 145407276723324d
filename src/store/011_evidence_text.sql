-- assay workspace schema, version 11: the text of documents (PDF, DOCX, ODT), extracted at
-- import and kept beside the original. `evidence.text_sha TEXT` names the blob holding the text
-- (NULL: not a document, or its text could not be taken) and `evidence.text_note TEXT` says what
-- it is ("PDF, 3 pages") or why there is none ("could not extract: …"). Both are added by
-- store::migrate before this runs, only where missing (see version 10). Both are recorded in the
-- import's record, and the text's blob like every blob, so `audit verify` vouches for them.

-- (no statements of its own)
SELECT 1;
