-- assay workspace schema, version 4: the search text is kept only in its folded (ASCII) form,
-- half as long as the text and its folded copy were, and matched byte by byte; queries are
-- folded the same way. `assay_search_text` is the application's own builder of the text
-- (domain::search::search_text), registered on every connection. The table is written anew so
-- that the shorter rows fill their pages.
CREATE TABLE search_folded (
    portfolio_pk INTEGER PRIMARY KEY REFERENCES portfolios (pk),
    text         TEXT NOT NULL
);
INSERT INTO search_folded (portfolio_pk, text)
SELECT p.pk,
       assay_search_text(
           p.id, p.learner_id, p.learner_name, r.id || '@' || r.version,
           (SELECT json_group_array(e.title ORDER BY e.ord) FROM evidence e
            WHERE e.portfolio_pk = p.pk AND e.revision = p.revision))
FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk
WHERE p.pk IN (SELECT portfolio_pk FROM search)
ORDER BY p.pk;
DROP TABLE search;
ALTER TABLE search_folded RENAME TO search;
