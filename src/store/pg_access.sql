-- assay on PostgreSQL: who may read and write what, held by the database itself. Applied with
-- the schema, by the role that makes it (the team's first lead, who owns the tables: an owner is
-- not bound by row-level security). Everyone else connects as their own login role, which
-- `assay user add` makes (or maps) and grants what its assay role needs (see app::people).
--
-- The functions run as their owner (SECURITY DEFINER) with the schema's search path fixed, and
-- read who is asking from session_user.

-- Anyone who may connect to the database sees which schema it has and who is registered (and so
-- is told plainly that they are not).
GRANT SELECT ON assay_schema, meta, users TO PUBLIC;

-- Whether the person connected is a registered lead.
CREATE FUNCTION assay_is_lead() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT EXISTS (SELECT 1 FROM users WHERE name = session_user AND role = 'lead')
$$;

-- Whether the person connected is registered at all.
CREATE FUNCTION assay_is_person() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT EXISTS (SELECT 1 FROM users WHERE name = session_user)
$$;

-- Whether blind moderation hides the first marking of portfolio `p` from the person connected:
-- the rule of app::query (`hides_first`) in SQL. Under a blind rubric the first marks, feedback
-- and comments are hidden from all but the first marker(s) and leads while the portfolio is
-- being first-marked, once submitted unless a draw passed it over, and once drawn until the
-- second decision is in.
CREATE FUNCTION assay_first_hidden(p bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT NOT assay_is_lead() AND EXISTS (
        SELECT 1 FROM portfolios po
          JOIN rubric_rules b ON b.rubric_pk = po.rubric_pk AND b.blind
         WHERE po.pk = p
           AND po.first_marker IS DISTINCT FROM session_user
           AND NOT EXISTS (SELECT 1 FROM marks m WHERE m.portfolio_pk = po.pk
                             AND m.phase = 'first' AND m.by_user = session_user)
           AND (po.status = 'in_progress'
                OR (po.status = 'submitted' AND NOT EXISTS (
                        SELECT 1 FROM draw_items d WHERE d.portfolio_pk = po.pk AND d.drawn = 0))
                OR (po.status = 'sampled' AND NOT EXISTS (
                        SELECT 1 FROM decisions d WHERE d.portfolio_pk = po.pk AND d.phase = 'second'))))
$$;

-- The same for a portfolio named by its id (the audit chain names portfolios so).
CREATE FUNCTION assay_first_hidden_id(id text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT coalesce((SELECT assay_first_hidden(pk) FROM portfolios WHERE portfolios.id = $1), false)
$$;

-- The head of the chain, whatever the person may read of it.
CREATE FUNCTION assay_head() RETURNS TABLE (seq bigint, hash text, at text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT a.seq, a.hash, a.at FROM audit a ORDER BY a.seq DESC LIMIT 1
$$;

-- The one way a record is written by anyone but the owner: as the person connected, next in
-- the chain (its number one more than the head's, its `prev` the head's hash), while the
-- caller's transaction holds the writers' lock. Nobody may change or remove a record.
CREATE FUNCTION assay_append(
    p_seq bigint, p_at text, p_actor text, p_action text, p_entity text, p_portfolio text,
    p_before text, p_after text, p_prev text, p_hash text, p_sig text
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    h_seq bigint;
    h_hash text;
BEGIN
    IF p_actor IS DISTINCT FROM session_user THEN
        RAISE EXCEPTION 'a record is written by the person connected (%), not %', session_user, p_actor
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT pg_try_advisory_xact_lock(7467337) THEN
        -- (the lock is the caller's own when it is in its transaction: try_lock succeeds)
        RAISE EXCEPTION 'records are appended inside a writing transaction' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT a.seq, a.hash INTO h_seq, h_hash FROM audit a ORDER BY a.seq DESC LIMIT 1;
    IF p_seq IS DISTINCT FROM coalesce(h_seq, 0) + 1
       OR p_prev IS DISTINCT FROM coalesce(h_hash, repeat('0', 64)) THEN
        RAISE EXCEPTION 'record % does not follow the head of the chain (%)', p_seq, coalesce(h_seq, 0)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO audit (seq, at, actor, action, entity, portfolio, before, after, prev, hash, sig)
    VALUES (p_seq, p_at, p_actor, p_action, p_entity, p_portfolio, p_before, p_after, p_prev, p_hash, p_sig);
    -- (delivered when the writer commits, to every open workbench listening: the record's
    -- number only; each reads what it may see of the change through its own grants)
    PERFORM pg_notify('assay_audit', p_seq::text);
END
$$;

REVOKE ALL ON FUNCTION assay_append(bigint, text, text, text, text, text, text, text, text, text, text) FROM PUBLIC;

-- What everyone but a lead reads of a portfolio's row and of a draw: all of it, except the first
-- decision's outcome, grade and score, and the reason a draw gave (which tells the outcome),
-- while blind moderation hides the first marking from them. The tables' other columns are
-- granted to them one by one (app::people); these views, which run with their owner's rights,
-- give the rest masked, and say whether it is (`first_hidden`: assay_first_hidden's rule, set
-- by set rather than a call a row, so that reading 100,000 rows stays a few scans).
-- (session_user is of type name, whose collation is "C": compared with a text column as it
-- is, no index on the column can serve the comparison; cast and given the column's collation,
-- the index on marks (by_user, …) finds the person's own marks directly)
CREATE VIEW assay_first_hidden_set AS
SELECT p.pk
  FROM portfolios p
  JOIN rubric_rules b ON b.rubric_pk = p.rubric_pk AND b.blind
 WHERE p.status IN ('in_progress', 'submitted', 'sampled')
   AND NOT (SELECT assay_is_lead())
   AND p.first_marker IS DISTINCT FROM (CAST(session_user AS text) COLLATE "default")
   AND NOT EXISTS (SELECT 1 FROM marks m WHERE m.portfolio_pk = p.pk AND m.phase = 'first'
                     AND m.by_user = (CAST(session_user AS text) COLLATE "default"))
   AND (p.status = 'in_progress'
        OR (p.status = 'submitted' AND NOT EXISTS (
                SELECT 1 FROM draw_items d WHERE d.portfolio_pk = p.pk AND d.drawn = 0))
        OR (p.status = 'sampled' AND NOT EXISTS (
                SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second')));

CREATE VIEW assay_portfolios AS
SELECT p.pk, p.id, p.rubric_pk, p.learner_id, p.learner_name, p.learner_email, p.submitted,
       p.revision, p.status, p.assessor, p.first_marker,
       CASE WHEN h.pk IS NOT NULL THEN NULL ELSE p.outcome END AS outcome,
       CASE WHEN h.pk IS NOT NULL THEN NULL ELSE p.grade END AS grade,
       CASE WHEN h.pk IS NOT NULL THEN NULL ELSE p.score END AS score,
       p.evidence_changed, p.version, p.released_at, p.updated_at,
       h.pk IS NOT NULL AS first_hidden
  FROM portfolios p
  LEFT JOIN assay_first_hidden_set h ON h.pk = p.pk;

CREATE VIEW assay_draw_items AS
SELECT d.draw_pk, d.portfolio_pk, d.drawn,
       CASE WHEN p.first_hidden THEN 'withheld:blind' ELSE d.reason END AS reason
  FROM draw_items d JOIN assay_portfolios p ON p.pk = d.portfolio_pk;

-- The ids of the portfolios in assay_first_hidden_set (the audit chain names portfolios so).
CREATE VIEW assay_first_hidden_ids AS
SELECT p.id FROM portfolios p JOIN assay_first_hidden_set h ON h.pk = p.pk;

-- Row-level security. Reads: everything a registered person may see; the first marking of a
-- blind rubric's portfolio as assay_first_hidden says (through its set, assay_first_hidden_set,
-- probed for the row's portfolio by its keys; the person's role asked once a statement). Writes: a marker's own rows only (leads
-- all); the audit chain through assay_append only (no policy lets a row be inserted, changed or
-- deleted directly).
ALTER TABLE marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE gates ENABLE ROW LEVEL SECURITY;
ALTER TABLE assessments ENABLE ROW LEVEL SECURITY;
ALTER TABLE decisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit ENABLE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE meta ENABLE ROW LEVEL SECURITY;
ALTER TABLE rubric_rules ENABLE ROW LEVEL SECURITY;

CREATE POLICY read ON marks FOR SELECT
    USING ((SELECT assay_is_person()) AND (phase <> 'first' OR NOT EXISTS (SELECT 1 FROM assay_first_hidden_set h WHERE h.pk = portfolio_pk)));
CREATE POLICY own_insert ON marks FOR INSERT WITH CHECK (by_user = session_user OR (SELECT assay_is_lead()));
CREATE POLICY own_update ON marks FOR UPDATE
    USING (by_user = session_user OR (SELECT assay_is_lead())) WITH CHECK (by_user = session_user OR (SELECT assay_is_lead()));
CREATE POLICY own_delete ON marks FOR DELETE USING (by_user = session_user OR (SELECT assay_is_lead()));

CREATE POLICY read ON gates FOR SELECT
    USING ((SELECT assay_is_person()) AND (phase <> 'first' OR NOT EXISTS (SELECT 1 FROM assay_first_hidden_set h WHERE h.pk = portfolio_pk)));
CREATE POLICY own_insert ON gates FOR INSERT WITH CHECK (by_user = session_user OR (SELECT assay_is_lead()));
CREATE POLICY own_update ON gates FOR UPDATE
    USING (by_user = session_user OR (SELECT assay_is_lead())) WITH CHECK (by_user = session_user OR (SELECT assay_is_lead()));
CREATE POLICY own_delete ON gates FOR DELETE USING (by_user = session_user OR (SELECT assay_is_lead()));

CREATE POLICY read ON assessments FOR SELECT
    USING ((SELECT assay_is_person()) AND (phase <> 'first' OR marker = session_user OR NOT EXISTS (SELECT 1 FROM assay_first_hidden_set h WHERE h.pk = portfolio_pk)));
CREATE POLICY own_insert ON assessments FOR INSERT WITH CHECK (marker = session_user OR (SELECT assay_is_lead()));
CREATE POLICY own_update ON assessments FOR UPDATE
    USING (marker = session_user OR (SELECT assay_is_lead())) WITH CHECK (marker = session_user OR (SELECT assay_is_lead()));
CREATE POLICY own_delete ON assessments FOR DELETE USING (marker = session_user OR (SELECT assay_is_lead()));

CREATE POLICY read ON decisions FOR SELECT
    USING ((SELECT assay_is_person()) AND (phase <> 'first' OR by_user = session_user OR NOT EXISTS (SELECT 1 FROM assay_first_hidden_set h WHERE h.pk = portfolio_pk)));
CREATE POLICY own_insert ON decisions FOR INSERT WITH CHECK (by_user = session_user OR (SELECT assay_is_lead()));
CREATE POLICY own_update ON decisions FOR UPDATE
    USING (by_user = session_user OR (SELECT assay_is_lead())) WITH CHECK (by_user = session_user OR (SELECT assay_is_lead()));
CREATE POLICY own_delete ON decisions FOR DELETE USING (by_user = session_user OR (SELECT assay_is_lead()));

CREATE POLICY read ON audit FOR SELECT
    USING ((SELECT assay_is_person()) AND NOT (
        ((split_part(entity, '/', 1) IN ('mark', 'gate', 'comment', 'choice', 'decision')
          AND split_part(entity, '/', 3) = 'first')
         -- (a draw's reason, `always:not_yet` say, tells the first decision)
         OR split_part(entity, '/', 1) = 'draw')
        AND EXISTS (SELECT 1 FROM assay_first_hidden_ids h WHERE h.id = portfolio)));

CREATE POLICY read ON users FOR SELECT USING (true);
CREATE POLICY lead_writes ON users FOR ALL USING ((SELECT assay_is_lead())) WITH CHECK ((SELECT assay_is_lead()));
-- (a person sets their own key: only that column is granted to them)
CREATE POLICY own_key ON users FOR UPDATE USING (name = session_user) WITH CHECK (name = session_user);
CREATE POLICY read ON meta FOR SELECT USING (true);
CREATE POLICY lead_writes ON meta FOR ALL USING ((SELECT assay_is_lead())) WITH CHECK ((SELECT assay_is_lead()));
CREATE POLICY read ON rubric_rules FOR SELECT USING (true);
CREATE POLICY lead_writes ON rubric_rules FOR ALL USING ((SELECT assay_is_lead())) WITH CHECK ((SELECT assay_is_lead()));

-- What a draw needs of the submitted decisions no draw has considered yet: the first outcome,
-- its kind and whether it is borderline (the sampler's strata), for a moderator or a lead (or
-- anyone in a workspace where nobody is registered). Whoever may draw can read these through
-- it; the marks, feedback, comments, grades and scores stay hidden.
CREATE FUNCTION assay_draw_candidates(p_rubric text)
RETURNS TABLE (pk bigint, id text, rubric_pk bigint, outcome text, kind text, borderline bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT p.pk, p.id, p.rubric_pk, d.outcome, d.kind, d.borderline
      FROM portfolios p
      JOIN decisions d ON d.portfolio_pk = p.pk AND d.phase = 'first'
      JOIN rubrics r ON r.pk = p.rubric_pk
     WHERE (NOT EXISTS (SELECT 1 FROM users)
            OR EXISTS (SELECT 1 FROM users u WHERE u.name = session_user AND u.role IN ('moderator', 'lead')))
       AND p.status = 'submitted'
       AND NOT EXISTS (SELECT 1 FROM draw_items i WHERE i.portfolio_pk = p.pk)
       AND (p_rubric IS NULL OR r.id = p_rubric)
     ORDER BY p.id
$$;
REVOKE ALL ON FUNCTION assay_draw_candidates(text) FROM PUBLIC;

-- The portfolios whose second decision is in (never hidden): what the queue reads of every
-- portfolio, without asking row-level security of each first decision on the way.
CREATE FUNCTION assay_second_decided() RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT portfolio_pk FROM decisions WHERE phase = 'second'
$$;
REVOKE ALL ON FUNCTION assay_second_decided() FROM PUBLIC;
