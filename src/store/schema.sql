-- assay workspace schema, version 1. Applied by store::migrate inside one transaction.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    name     TEXT PRIMARY KEY,
    role     TEXT NOT NULL CHECK (role IN ('assessor', 'moderator', 'lead')),
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);

CREATE TABLE rubrics (
    pk          INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    version     TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    title       TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (id, version)
);

-- Evidence and statements, content-addressed and stored once.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    data   BLOB NOT NULL
);

CREATE TABLE portfolios (
    pk               INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    rubric_pk        INTEGER NOT NULL REFERENCES rubrics (pk),
    learner_id       TEXT NOT NULL,
    learner_name     TEXT NOT NULL,
    learner_email    TEXT,
    submitted        TEXT NOT NULL,
    revision         INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'new',
    assessor         TEXT,
    first_marker     TEXT,
    outcome          TEXT,
    grade            TEXT,
    score            REAL,
    evidence_changed INTEGER NOT NULL DEFAULT 0,
    version          INTEGER NOT NULL DEFAULT 0,
    search_text      TEXT NOT NULL DEFAULT '',
    released_at      TEXT,
    updated_at       TEXT NOT NULL
);
CREATE INDEX portfolios_status ON portfolios (status);
CREATE INDEX portfolios_rubric ON portfolios (rubric_pk);

CREATE TABLE revisions (
    portfolio_pk   INTEGER NOT NULL REFERENCES portfolios (pk),
    revision       INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    manifest       BLOB NOT NULL,
    statement_sha  TEXT REFERENCES blobs (sha256),
    statement_file TEXT,
    imported_at    TEXT NOT NULL,
    PRIMARY KEY (portfolio_pk, revision)
);

CREATE TABLE evidence (
    portfolio_pk INTEGER NOT NULL,
    revision     INTEGER NOT NULL,
    ord          INTEGER NOT NULL,
    id           TEXT NOT NULL,
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    file         TEXT,
    url          TEXT,
    date         TEXT NOT NULL,
    hours        REAL,
    claims       TEXT NOT NULL,
    note         TEXT,
    blob_sha     TEXT REFERENCES blobs (sha256),
    size         INTEGER,
    is_text      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portfolio_pk, revision, ord),
    FOREIGN KEY (portfolio_pk, revision) REFERENCES revisions (portfolio_pk, revision)
);

-- One marker's work on one portfolio: phase 'first' (assessor) or 'second' (moderator).
CREATE TABLE assessments (
    portfolio_pk INTEGER NOT NULL REFERENCES portfolios (pk),
    phase        TEXT NOT NULL CHECK (phase IN ('first', 'second')),
    marker       TEXT NOT NULL,
    comment      TEXT,
    -- an outcome the marker chose over the rule's (referral or override), applied on submit
    choice       TEXT CHECK (choice IN ('awarded', 'not_yet', 'referred')),
    rationale    TEXT,
    cursor       INTEGER NOT NULL DEFAULT 0,
    started_at   TEXT NOT NULL,
    submitted_at TEXT,
    PRIMARY KEY (portfolio_pk, phase)
);

CREATE TABLE marks (
    portfolio_pk INTEGER NOT NULL,
    phase        TEXT NOT NULL,
    criterion    TEXT NOT NULL,
    level        TEXT,
    feedback     TEXT,
    by_user      TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (portfolio_pk, phase, criterion),
    FOREIGN KEY (portfolio_pk, phase) REFERENCES assessments (portfolio_pk, phase)
);

CREATE TABLE gates (
    portfolio_pk INTEGER NOT NULL,
    phase        TEXT NOT NULL,
    gate         TEXT NOT NULL,
    by_user      TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (portfolio_pk, phase, gate),
    FOREIGN KEY (portfolio_pk, phase) REFERENCES assessments (portfolio_pk, phase)
);

CREATE TABLE decisions (
    pk           INTEGER PRIMARY KEY,
    portfolio_pk INTEGER NOT NULL REFERENCES portfolios (pk),
    phase        TEXT NOT NULL CHECK (phase IN ('first', 'second')),
    rubric_pk    INTEGER NOT NULL REFERENCES rubrics (pk),
    rubric_sha   TEXT NOT NULL,
    score_num    TEXT NOT NULL,
    score_den    TEXT NOT NULL,
    score        REAL NOT NULL,
    computed     TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    grade        TEXT,
    borderline   INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('rule', 'override', 'referred')),
    rationale    TEXT,
    by_user      TEXT NOT NULL,
    at           TEXT NOT NULL,
    UNIQUE (portfolio_pk, phase)
);

CREATE TABLE draws (
    pk        INTEGER PRIMARY KEY,
    rubric_pk INTEGER REFERENCES rubrics (pk),
    seed      INTEGER NOT NULL,
    by_user   TEXT NOT NULL,
    at        TEXT NOT NULL
);

CREATE TABLE draw_items (
    draw_pk      INTEGER NOT NULL REFERENCES draws (pk),
    portfolio_pk INTEGER NOT NULL UNIQUE REFERENCES portfolios (pk),
    drawn        INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    PRIMARY KEY (draw_pk, portfolio_pk)
);

CREATE TABLE settlements (
    portfolio_pk INTEGER PRIMARY KEY REFERENCES portfolios (pk),
    action       TEXT NOT NULL CHECK (action IN ('confirm', 'amend')),
    rationale    TEXT,
    by_user      TEXT NOT NULL,
    at           TEXT NOT NULL
);

CREATE TABLE export_batches (
    pk      INTEGER PRIMARY KEY,
    format  TEXT NOT NULL,
    by_user TEXT NOT NULL,
    at      TEXT NOT NULL,
    count   INTEGER NOT NULL,
    target  TEXT NOT NULL
);

CREATE TABLE export_items (
    batch_pk     INTEGER NOT NULL REFERENCES export_batches (pk),
    portfolio_pk INTEGER NOT NULL REFERENCES portfolios (pk),
    format       TEXT NOT NULL,
    PRIMARY KEY (batch_pk, portfolio_pk)
);
CREATE INDEX export_items_format ON export_items (format, portfolio_pk);

-- The append-only, hash-chained history of every change.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    portfolio TEXT,
    before    TEXT,
    after     TEXT,
    prev      TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_portfolio ON audit (portfolio);
CREATE INDEX audit_entity ON audit (entity);
