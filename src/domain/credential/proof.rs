//! Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C VC Data Integrity EdDSA
//! Cryptosuites v1.0, §3.2): the proof options and the document (without its proof) are each
//! canonicalised with RDFC-1.0 and hashed with SHA-256; the Ed25519 signature over
//! `hash(proof options) ‖ hash(document)` is the `proofValue`, base58btc multibase.

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::ld::{Canonicalizer, LdError};

pub const PROOF_TYPE: &str = "DataIntegrityProof";
pub const CRYPTOSUITE: &str = "eddsa-rdfc-2022";
pub const PURPOSE: &str = "assertionMethod";

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("it has no proof")]
    Missing,
    #[error("its proof is not a {PROOF_TYPE} with the {CRYPTOSUITE} cryptosuite (it is {0})")]
    Unsupported(String),
    #[error("its proof's purpose is {0:?}, not {PURPOSE:?}")]
    Purpose(String),
    #[error("its proof has no {0}")]
    Field(&'static str),
    #[error("its proofValue is not a base58btc Ed25519 signature")]
    Value,
    #[error(
        "the signature does not match: the credential was changed after it was signed, or signed by another key"
    )]
    Signature,
    #[error("{0}")]
    Ld(#[from] LdError),
}

/// The proof a signer adds (before `proofValue`).
pub fn options(verification_method: &str, created: &str) -> Map<String, Value> {
    let Value::Object(m) = json!({
        "type": PROOF_TYPE,
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": PURPOSE,
    }) else {
        unreachable!("an object")
    };
    m
}

/// `hash(proof options) ‖ hash(document)`, the bytes signed.
pub fn signing_input(
    ld: &Canonicalizer,
    unsecured: &Value,
    proof: &Map<String, Value>,
) -> Result<Vec<u8>, LdError> {
    let mut config = proof.clone();
    config.remove("proofValue");
    if let Some(ctx) = unsecured.get("@context") {
        config.insert("@context".into(), ctx.clone());
    }
    let proof_hash = Sha256::digest(ld.canonical(&Value::Object(config))?.as_bytes());
    let doc_hash = Sha256::digest(ld.canonical(unsecured)?.as_bytes());
    let mut out = proof_hash.to_vec();
    out.extend_from_slice(&doc_hash);
    Ok(out)
}

/// `doc` with a proof by `key`, named `verification_method`, made at `created`: `proof` is one
/// object, as in the Data Integrity specification's examples (see [`sign_as_list`]).
pub fn sign(
    ld: &Canonicalizer,
    doc: &Value,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
) -> Result<Value, LdError> {
    let mut unsecured = doc.clone();
    if let Value::Object(m) = &mut unsecured {
        m.remove("proof");
    }
    let mut proof = options(verification_method, created);
    let input = signing_input(ld, &unsecured, &proof)?;
    let sig = key.sign(&input);
    proof.insert(
        "proofValue".into(),
        json!(format!("z{}", bs58::encode(sig.to_bytes()).into_string())),
    );
    if let Value::Object(m) = &mut unsecured {
        m.insert("proof".into(), Value::Object(proof));
    }
    Ok(unsecured)
}

/// [`sign`], the proof in a list of one: the Open Badges 3.0 JSON Schema requires `proof` to
/// be an array; to JSON-LD the two are the same.
pub fn sign_as_list(
    ld: &Canonicalizer,
    doc: &Value,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
) -> Result<Value, LdError> {
    let mut signed = sign(ld, doc, key, verification_method, created)?;
    if let Some(p) = signed.get_mut("proof") {
        *p = Value::Array(vec![p.take()]);
    }
    Ok(signed)
}

/// The proof of `doc` (the first `eddsa-rdfc-2022` one when there are several) and its
/// verification method.
pub fn proof_of(doc: &Value) -> Result<(&Map<String, Value>, &str), ProofError> {
    let proofs: Vec<&Value> = match doc.get("proof") {
        None => return Err(ProofError::Missing),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(p) => vec![p],
    };
    let proof = proofs
        .iter()
        .filter_map(|p| p.as_object())
        .find(|p| p.get("cryptosuite").and_then(Value::as_str) == Some(CRYPTOSUITE))
        .or_else(|| proofs.first().and_then(|p| p.as_object()))
        .ok_or(ProofError::Missing)?;
    let ty = proof.get("type").and_then(Value::as_str).unwrap_or("?");
    let suite = proof
        .get("cryptosuite")
        .and_then(Value::as_str)
        .unwrap_or("?");
    if ty != PROOF_TYPE || suite != CRYPTOSUITE {
        return Err(ProofError::Unsupported(format!("{ty} / {suite}")));
    }
    let purpose = proof
        .get("proofPurpose")
        .and_then(Value::as_str)
        .ok_or(ProofError::Field("proofPurpose"))?;
    if purpose != PURPOSE {
        return Err(ProofError::Purpose(purpose.into()));
    }
    let vm = proof
        .get("verificationMethod")
        .and_then(Value::as_str)
        .ok_or(ProofError::Field("verificationMethod"))?;
    Ok((proof, vm))
}

/// Checks the proof of `doc` with the Ed25519 key `public`.
pub fn verify(ld: &Canonicalizer, doc: &Value, public: &[u8; 32]) -> Result<(), ProofError> {
    let (proof, _) = proof_of(doc)?;
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .ok_or(ProofError::Field("proofValue"))?;
    let sig: [u8; 64] = value
        .strip_prefix('z')
        .and_then(|b| bs58::decode(b).into_vec().ok())
        .and_then(|b| b.try_into().ok())
        .ok_or(ProofError::Value)?;
    let key = VerifyingKey::from_bytes(public).map_err(|_| ProofError::Signature)?;
    let mut unsecured = doc.clone();
    if let Value::Object(m) = &mut unsecured {
        m.remove("proof");
    }
    let input = signing_input(ld, &unsecured, proof)?;
    key.verify_strict(&input, &ed25519_dalek::Signature::from_bytes(&sig))
        .or_else(|_| key.verify(&input, &ed25519_dalek::Signature::from_bytes(&sig)))
        .map_err(|_| ProofError::Signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4";
    const VM: &str =
        "https://example.edu/issuers/565049#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi";

    fn vector() -> Value {
        serde_json::from_str(include_str!(
            "../../../tests/fixtures/ob-vector/credential.json"
        ))
        .unwrap()
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&hex::decode(SECRET).unwrap().try_into().unwrap())
    }

    /// 1EdTech's published OB 3.0 `eddsa-rdfc-2022` test vector (openbadges-specification,
    /// `ob_v3p0/impl/linked-data-proof-ob.html`), byte for byte.
    #[test]
    fn reproduces_the_published_test_vector() {
        let ld = Canonicalizer::new();
        let doc = vector();
        assert_eq!(
            key().verifying_key().to_bytes().to_vec(),
            hex::decode("4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
                .unwrap()
        );
        let doc_canon = ld.canonical(&doc).unwrap();
        assert_eq!(
            doc_canon,
            include_str!("../../../tests/fixtures/ob-vector/document-canon.txt")
        );
        let mut config = options(VM, "2010-01-01T19:23:24Z");
        config.insert("@context".into(), doc["@context"].clone());
        let proof_canon = ld.canonical(&Value::Object(config)).unwrap();
        assert_eq!(
            proof_canon,
            include_str!("../../../tests/fixtures/ob-vector/proof-canon.txt")
        );
        assert_eq!(
            hex::encode(Sha256::digest(doc_canon.as_bytes())),
            "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773"
        );
        assert_eq!(
            hex::encode(Sha256::digest(proof_canon.as_bytes())),
            "d34009cea0dbc1ca941e09dc01c8c9d3e3ce3c5b853f67ee44698dcea10f5d19"
        );
        let signed = sign(&ld, &doc, &key(), VM, "2010-01-01T19:23:24Z").unwrap();
        let expected: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/ob-vector/signed.json"
        ))
        .unwrap();
        assert_eq!(
            signed["proof"]["proofValue"],
            "z5x9aCBYovW3CQCbKdNyhEm7ffYSw1YpEdPywQJoNbzDD2gkzQDKJ1sYKJaWvqZtkMtSbz35HcbgXVEDYHxCzgkCr"
        );
        assert_eq!(signed, expected);
        let public = key().verifying_key().to_bytes();
        verify(&ld, &expected, &public).unwrap();
    }

    #[test]
    fn a_changed_credential_or_another_key_fails() {
        let ld = Canonicalizer::new();
        let signed = sign(&ld, &vector(), &key(), VM, "2010-01-01T19:23:24Z").unwrap();
        let public = key().verifying_key().to_bytes();
        let mut changed = signed.clone();
        changed["name"] = json!("Teamwork Badge!");
        assert_eq!(verify(&ld, &changed, &public), Err(ProofError::Signature));
        let mut moved = signed.clone();
        moved["proof"]["created"] = json!("2011-01-01T19:23:24Z");
        assert_eq!(verify(&ld, &moved, &public), Err(ProofError::Signature));
        let other = SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes();
        assert_eq!(verify(&ld, &signed, &other), Err(ProofError::Signature));
        let mut unknown = signed.clone();
        unknown["@context"][1] = json!("https://example.com/other-context.json");
        assert!(matches!(
            verify(&ld, &unknown, &public),
            Err(ProofError::Ld(LdError::UnknownContext(_)))
        ));
    }

    #[test]
    fn an_inline_context_after_the_remote_ones_is_applied() {
        let ld = Canonicalizer::new();
        let mut doc = vector();
        doc["@context"]
            .as_array_mut()
            .unwrap()
            .push(json!({"ex": "https://ex.example/ns#"}));
        doc["ex:thing"] = json!("a");
        let canon = ld.canonical(&doc).unwrap();
        assert!(
            canon.contains("<https://ex.example/ns#thing> \"a\""),
            "{canon}"
        );
    }
}
