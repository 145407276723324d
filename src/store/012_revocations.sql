-- assay workspace schema, version 12: credentials revoked by a lead (`assay revoke`). A signed
-- credential's status entry is its decision's bit in a Bitstring status list; `assay issuer
-- publish` sets the bits of these rows. Recorded (`credential.revoke`) and vouched for.
CREATE TABLE IF NOT EXISTS revocations (
    decision_pk   INTEGER PRIMARY KEY REFERENCES decisions (pk),
    credential_id TEXT NOT NULL,
    reason        TEXT NOT NULL,
    by_user       TEXT NOT NULL,
    at            TEXT NOT NULL
);
