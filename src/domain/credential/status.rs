//! Bitstring Status List v1.0 (W3C): revocation by a bit per credential in a list credential the
//! issuer publishes. A list holds [`LIST_BITS`] entries (the specification's minimum size, so
//! that a list does not reveal which credential a verifier checks); a credential's index is its
//! decision's store id, so the entry is stable across exports: list `WORKSPACE/(index / LIST_BITS + 1).json`, bit
//! `index % LIST_BITS`. Bit 0 is the most significant bit of the first byte; the list is
//! GZIP-compressed and base64url-encoded with the multibase prefix `u`.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

/// Entries per list: 16 KiB of bits.
pub const LIST_BITS: u64 = 131_072;
/// The purpose assay's entries and lists have.
pub const PURPOSE: &str = "revocation";

/// Where the status of the credential with `index` is: the list's URL and the bit in it.
pub fn place(base: &str, workspace: &str, index: u64) -> (String, u64) {
    (
        format!(
            "{}/{workspace}/{}.json",
            base.trim_end_matches('/'),
            index / LIST_BITS + 1
        ),
        index % LIST_BITS,
    )
}

/// A credential's `credentialStatus`.
pub fn entry(list_url: &str, bit: u64) -> Value {
    json!({
        "id": format!("{list_url}#{bit}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": bit.to_string(),
        "statusListCredential": list_url,
    })
}

/// `encodedList` for the set `bits` (each < [`LIST_BITS`]).
pub fn encode(bits: impl IntoIterator<Item = u64>) -> String {
    let mut list = vec![0u8; (LIST_BITS / 8) as usize];
    for b in bits {
        if b < LIST_BITS {
            list[(b / 8) as usize] |= 0x80 >> (b % 8);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&list).expect("writing to memory");
    format!("u{}", B64.encode(gz.finish().expect("writing to memory")))
}

/// The bits of an `encodedList` (at most 16 MiB of them, uncompressed).
pub fn decode(encoded: &str) -> Result<Vec<u8>, String> {
    let body = encoded
        .strip_prefix('u')
        .ok_or("its encodedList is not base64url multibase (it must start with u)")?;
    let gz = B64
        .decode(body.trim_end_matches('='))
        .map_err(|_| "its encodedList is not base64url")?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .take(16 << 20)
        .read_to_end(&mut out)
        .map_err(|_| "its encodedList is not GZIP")?;
    Ok(out)
}

/// Whether bit `bit` of a decoded list is set (`None`: the list is shorter).
pub fn is_set(list: &[u8], bit: u64) -> Option<bool> {
    list.get((bit / 8) as usize)
        .map(|byte| byte & (0x80 >> (bit % 8)) != 0)
}

/// The unsigned status list credential for `url`.
pub fn list_credential(url: &str, issuer: &str, valid_from: &str, encoded: String) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encoded,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_most_significant_first() {
        let enc = encode([0, 9, LIST_BITS - 1]);
        let list = decode(&enc).unwrap();
        assert_eq!(list.len() as u64, LIST_BITS / 8);
        assert_eq!(list[0], 0x80);
        assert_eq!(list[1], 0x40);
        assert_eq!(is_set(&list, 9), Some(true));
        assert_eq!(is_set(&list, 10), Some(false));
        assert_eq!(is_set(&list, LIST_BITS - 1), Some(true));
        assert_eq!(is_set(&list, LIST_BITS), None);
        assert!(decode("xyz").is_err());
    }

    #[test]
    fn places_follow_the_index() {
        assert_eq!(
            place("https://ex.edu/status/", "ws", 5),
            ("https://ex.edu/status/ws/1.json".into(), 5)
        );
        assert_eq!(
            place("https://ex.edu/status", "ws", LIST_BITS + 2),
            ("https://ex.edu/status/ws/2.json".into(), 2)
        );
    }
}
