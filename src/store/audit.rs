//! The audit chain: every change appends a record of who, when, what, and the before and after
//! values, hashed together with the previous record's hash (SHA-256). `verify` walks the chain
//! and also checks that the current marks, gates, comments, decisions and settlements equal what
//! the chain last recorded for them, so an edit made behind assay's back — to the history or to
//! the current state — is found and named.

use crate::store::db::{Connection, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One record of the chain (defined in `domain`, where the front ends read it).
pub use crate::domain::audit::Record;

/// The hash of a record: SHA-256 over an unambiguous JSON array of its fields and `prev`.
#[allow(clippy::too_many_arguments)]
pub fn hash_of(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    entity: &str,
    portfolio: Option<&str>,
    before: Option<&str>,
    after: Option<&str>,
    prev: &str,
) -> String {
    // The JSON text is written straight into the hash (never held whole).
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.update(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Hashing(Sha256::new());
    serde_json::to_writer(
        &mut h,
        &(
            seq, at, actor, action, entity, portfolio, before, after, prev,
        ),
    )
    .expect("strings serialise");
    hex::encode(h.0.finalize())
}

/// [`hash_of`] as bytes, the JSON text written into `buf` (scratch space, reused) and hashed
/// whole: verify's way, for a chain of records one after the other. The text is the one
/// `serde_json` writes of the same array (tested against it).
#[allow(clippy::too_many_arguments)]
pub fn hash_bytes(
    buf: &mut Vec<u8>,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    entity: &str,
    portfolio: Option<&str>,
    before: Option<&str>,
    after: Option<&str>,
    prev: &str,
) -> [u8; 32] {
    let texts = [
        Some(at.as_bytes()),
        Some(actor.as_bytes()),
        Some(action.as_bytes()),
        Some(entity.as_bytes()),
        portfolio.map(str::as_bytes),
        before.map(str::as_bytes),
        after.map(str::as_bytes),
        Some(prev.as_bytes()),
    ];
    hash_texts(buf, seq, &texts)
}

/// [`hash_bytes`] of a record's number and its texts in the order hashed (at, actor, action,
/// entity, portfolio, before, after, prev), each the bytes of a `str`.
pub fn hash_texts(buf: &mut Vec<u8>, seq: i64, texts: &[Option<&[u8]>; 8]) -> [u8; 32] {
    use std::io::Write;
    buf.clear();
    buf.push(b'[');
    write!(buf, "{seq}").expect("a Vec takes what is written");
    for s in texts {
        buf.push(b',');
        match s {
            None => buf.extend_from_slice(b"null"),
            Some(s) => json_string(buf, s),
        }
    }
    buf.push(b']');
    Sha256::digest(&buf[..]).into()
}

/// What a byte is written as inside a JSON string, as `serde_json` writes it: 0 for itself,
/// `u` for `\u00XX`, else the letter after a backslash.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Whether any of the 8 bytes of `w` is one a JSON string escapes (a control, `"` or `\`).
fn needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let control = below(w, 0x20);
    let quote = below(w ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(w ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash != 0
}

fn escaped_byte(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match ESCAPE[b as usize] {
        0 => out.push(b),
        b'u' => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 0xf) as usize],
        ]),
        c => out.extend_from_slice(&[b'\\', c]),
    }
}

/// Writes `s` as a JSON string: eight bytes at a time where none needs escaping.
fn json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let (mut i, mut run) = (0, 0);
    while i + 8 <= s.len() {
        let w = u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
        if needs_escape(w) {
            out.extend_from_slice(&s[run..i]);
            for &b in &s[i..i + 8] {
                escaped_byte(out, b);
            }
            run = i + 8;
        }
        i += 8;
    }
    out.extend_from_slice(&s[run..i]);
    for &b in &s[i..] {
        escaped_byte(out, b);
    }
    out.push(b'"');
}

/// A record ready to be written: its place in the chain and everything its hash covers.
pub struct Entry<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub portfolio: Option<&'a str>,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub prev: &'a str,
}

/// The sequence number of the newest record (0 for none): every change appends one, so two
/// reads that see the same head saw the same workspace.
pub fn head(conn: &Connection) -> crate::store::db::Result<i64> {
    if conn.is_pg() {
        return conn.query_row("SELECT coalesce(max(seq), 0) FROM assay_head()", (), |r| {
            r.get(0)
        });
    }
    conn.query_row("SELECT coalesce(max(seq), 0) FROM audit", (), |r| r.get(0))
}

/// Writes a record (inside the caller's transaction: see `store::Tx::append`, the one way
/// records are appended) and returns its hash. With a `signer`, the record's text (the bytes
/// its hash is taken over) is signed and the signature stored beside it.
pub fn insert(
    conn: &Connection,
    e: &Entry<'_>,
    signer: Option<&dyn super::RecordSigner>,
) -> super::Result<String> {
    let before = e.before.map(Value::to_string);
    let after = e.after.map(Value::to_string);
    let mut text = Vec::new();
    let hash = hex::encode(hash_bytes(
        &mut text,
        e.seq,
        e.at,
        e.actor,
        e.action,
        e.entity,
        e.portfolio,
        before.as_deref(),
        after.as_deref(),
        e.prev,
    ));
    let sig = signer
        .map(|s| s.sign(&text))
        .transpose()
        .map_err(super::StoreError::Sign)?;
    // (on a server, through the one function the database lets anyone append with)
    let sql = match conn.is_pg() {
        true => "SELECT assay_append(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        false => {
            "INSERT INTO audit (seq, at, actor, action, entity, portfolio, before, after, prev, hash, sig)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        }
    };
    conn.prepare_cached(sql)?.execute(params![
        e.seq,
        e.at,
        e.actor,
        e.action,
        e.entity,
        e.portfolio,
        before,
        after,
        e.prev,
        hash,
        sig
    ])?;
    Ok(hash)
}

fn parse_json(s: Option<String>) -> Option<Value> {
    s.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

/// Records, oldest first; only those of one portfolio when `portfolio` is given.
pub fn log(conn: &Connection, portfolio: Option<&str>) -> crate::store::db::Result<Vec<Record>> {
    // Two statements rather than `?1 IS NULL OR portfolio = ?1`, which SQLite cannot answer
    // from the `audit_portfolio` index: one portfolio's history is then found without reading
    // the whole chain.
    let mut st = match portfolio {
        Some(_) => conn.prepare_cached(
            "SELECT seq, at, actor, action, entity, portfolio, before, after, prev, hash, sig IS NOT NULL
             FROM audit WHERE portfolio = ?1 ORDER BY seq",
        )?,
        None => conn.prepare_cached(
            "SELECT seq, at, actor, action, entity, portfolio, before, after, prev, hash, sig IS NOT NULL
             FROM audit WHERE CAST(?1 AS TEXT) IS NULL ORDER BY seq",
        )?,
    };
    let rows = st.query_map(params![portfolio], |r| {
        Ok(Record {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            entity: r.get(4)?,
            portfolio: r.get(5)?,
            before: parse_json(r.get(6)?),
            after: parse_json(r.get(7)?),
            prev: r.get(8)?,
            hash: r.get(9)?,
            signed: r.get(10)?,
        })
    })?;
    rows.collect()
}

// ---------------------------------------------------------------------------------------------
// Entities: the names and canonical values of the state the chain vouches for.
// ---------------------------------------------------------------------------------------------

pub fn mark_entity(pid: &str, phase: &str, criterion: &str) -> String {
    format!("mark/{pid}/{phase}/{criterion}")
}
pub fn gate_entity(pid: &str, phase: &str, gate: &str) -> String {
    format!("gate/{pid}/{phase}/{gate}")
}
pub fn comment_entity(pid: &str, phase: &str) -> String {
    format!("comment/{pid}/{phase}")
}
pub fn decision_entity(pid: &str, phase: &str) -> String {
    format!("decision/{pid}/{phase}")
}
pub fn settlement_entity(pid: &str) -> String {
    format!("settlement/{pid}")
}

/// The canonical value of a mark row.
pub fn mark_value(level: Option<&str>, feedback: Option<&str>) -> Value {
    json!({ "level": level, "feedback": feedback })
}

/// The stored fields of a decision that the chain vouches for.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub score_num: String,
    pub score_den: String,
    pub computed: String,
    pub outcome: String,
    pub grade: Option<String>,
    pub borderline: bool,
    pub kind: String,
    pub rationale: Option<String>,
    pub by_user: String,
    pub rubric_sha: String,
}

pub fn decision_value(d: &DecisionRow) -> Value {
    json!({
        "score_num": d.score_num, "score_den": d.score_den, "computed": d.computed,
        "outcome": d.outcome, "grade": d.grade, "borderline": d.borderline, "kind": d.kind,
        "rationale": d.rationale, "by": d.by_user, "rubric_sha256": d.rubric_sha,
    })
}

pub fn settlement_value(action: &str, rationale: Option<String>, by: &str) -> Value {
    json!({ "action": action, "rationale": rationale, "by": by })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_bytes_is_hash_of() {
        let texts = [
            "",
            "plain",
            "quote \" backslash \\ slash / newline \n tab \t nul \u{0} del \u{7f} é 京 😀",
            "{\"level\":\"proficient\",\"feedback\":null}",
        ];
        let mut buf = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            for o in [None, Some(*t)] {
                let want = hash_of(i as i64 - 1, t, t, t, t, o, o, o, t);
                let got = hash_bytes(&mut buf, i as i64 - 1, t, t, t, t, o, o, o, t);
                assert_eq!(hex::encode(got), want);
            }
        }
        // every byte that may need escaping, at every place in a word of eight
        for b in 0u8..0x80 {
            for at in 0..17 {
                let mut t = "a".repeat(at);
                t.push(b as char);
                t.push_str("bcdefghijklmnopq");
                let want = hash_of(1, &t, "", "", "", None, Some(&t), None, "");
                let got = hash_bytes(&mut buf, 1, &t, "", "", "", None, Some(&t), None, "");
                assert_eq!(hex::encode(got), want, "{t:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn hash_bytes_is_hash_of_any_text(
            seq in proptest::prelude::any::<i64>(),
            a in "\\PC*",
            b in proptest::option::of("[\\x00-\\x7f\"\\\\é😀]{0,40}"),
            c in proptest::prelude::any::<String>(),
        ) {
            let mut buf = Vec::new();
            let want = hash_of(seq, &a, &c, &a, &c, b.as_deref(), Some(&c), b.as_deref(), &a);
            let got = hash_bytes(&mut buf, seq, &a, &c, &a, &c, b.as_deref(), Some(&c), b.as_deref(), &a);
            proptest::prop_assert_eq!(hex::encode(got), want);
        }
    }
}
