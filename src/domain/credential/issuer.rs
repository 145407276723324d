//! An awarding body's signing keys and the documents it publishes so that anyone can verify its
//! credentials: its issuer profile, a `did:web` DID document and a JWKS. Keys are given as bytes;
//! reading and writing the key file is the app's.

use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use super::keys::PublicKey;

/// What kind of identifier an issuer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// An `https://` URL where its profile is published.
    Https,
    /// `did:web:host[:path]`: its DID document at `https://host/.well-known/did.json` (or
    /// `https://host/path/did.json`).
    DidWeb,
    /// `did:key:z…`: the key itself; nothing to publish.
    DidKey,
}

/// The kind of `id`, or why it cannot be an issuer's id.
pub fn id_kind(id: &str) -> Result<IdKind, String> {
    let bad = id.is_empty()
        || id.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '#' | '?' | '<' | '>' | '"')
        });
    if bad {
        return Err(format!(
            "{id:?} cannot be an issuer id: no spaces, `#` or `?` (give an https URL, did:web:HOST or did:key)"
        ));
    }
    if let Some(rest) = id.strip_prefix("https://") {
        if rest.split('/').next().is_some_and(|h| !h.is_empty()) {
            return Ok(IdKind::Https);
        }
    } else if let Some(rest) = id.strip_prefix("did:web:") {
        if !rest.is_empty() && !rest.starts_with(':') {
            return Ok(IdKind::DidWeb);
        }
    } else if id.starts_with("did:key:") {
        return Ok(IdKind::DidKey);
    }
    Err(format!(
        "{id:?} cannot be an issuer id: give an https:// URL (where its profile is published), did:web:HOST[:PATH], or did:key"
    ))
}

/// Where a `did:web` DID's document is published.
pub fn did_web_url(did: &str) -> Option<String> {
    let rest = did.strip_prefix("did:web:")?;
    let mut parts = rest.split(':');
    let host = parts.next()?.replace("%3A", ":");
    let path: Vec<&str> = parts.collect();
    Some(if path.is_empty() {
        format!("https://{host}/.well-known/did.json")
    } else {
        format!("https://{host}/{}/did.json", path.join("/"))
    })
}

/// An issuer: its id, profile facts and keys.
pub struct Issuer {
    pub id: String,
    pub name: Option<String>,
    pub url: Option<String>,
    /// Where its status lists are published (`…/WORKSPACE/N`).
    pub status_base: Option<String>,
    pub ed25519: SigningKey,
    pub p256: p256::SecretKey,
}

impl Issuer {
    /// A `did:key` issuer's id from its Ed25519 key.
    pub fn did_key_id(ed25519: &SigningKey) -> String {
        PublicKey::Ed25519(ed25519.verifying_key().to_bytes()).did_key()
    }

    pub fn ed25519_public(&self) -> PublicKey {
        PublicKey::Ed25519(self.ed25519.verifying_key().to_bytes())
    }

    pub fn p256_public(&self) -> PublicKey {
        PublicKey::p256(&self.p256.public_key())
    }

    /// The verification method of the Ed25519 key (Data Integrity proofs).
    pub fn ed25519_method(&self) -> String {
        format!("{}#{}", self.id, self.ed25519_public().multibase())
    }

    /// The verification method of the P-256 key (JWTs' `kid`).
    pub fn p256_method(&self) -> String {
        format!("{}#{}", self.id, self.p256_public().multibase())
    }

    fn methods(&self) -> Vec<Value> {
        let mut m = vec![super::keys::multikey(
            &self.ed25519_method(),
            &self.id,
            &self.ed25519_public(),
        )];
        if self.kind() != Ok(IdKind::DidKey) {
            m.push(super::keys::multikey(
                &self.p256_method(),
                &self.id,
                &self.p256_public(),
            ));
        }
        m
    }

    pub fn kind(&self) -> Result<IdKind, String> {
        id_kind(&self.id)
    }

    /// The Open Badges issuer profile, its keys listed under `assertionMethod`.
    pub fn profile(&self) -> Value {
        let mut p = json!({
            "@context": [
                super::super::export::obv3::VC_CONTEXT,
                super::super::export::obv3::OB_CONTEXT,
                "https://w3id.org/security/multikey/v1",
                { "assertionMethod": { "@id": "https://w3id.org/security#assertionMethod", "@type": "@id", "@container": "@set" } }
            ],
            "id": self.id,
            "type": ["Profile"],
        });
        if let Some(n) = &self.name {
            p["name"] = json!(n);
        }
        if let Some(u) = &self.url {
            p["url"] = json!(u);
        }
        p["assertionMethod"] = Value::Array(self.methods());
        p
    }

    /// The DID document (for `did:web` and `did:key` issuers).
    pub fn did_document(&self) -> Value {
        let methods = self.methods();
        let ids: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
        json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.id,
            "verificationMethod": methods,
            "assertionMethod": ids,
        })
    }

    /// The JWKS of its JWT key.
    pub fn jwks(&self) -> Value {
        let mut jwk = self
            .p256_public()
            .jwk(Some(&self.p256_method()))
            .expect("a P-256 key has a JWK");
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        json!({ "keys": [jwk] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_ids() {
        assert_eq!(id_kind("https://ex.edu/issuers/1"), Ok(IdKind::Https));
        assert_eq!(id_kind("did:web:ex.edu"), Ok(IdKind::DidWeb));
        assert_eq!(id_kind("did:key:z6Mk"), Ok(IdKind::DidKey));
        assert!(id_kind("http://ex.edu").is_err());
        assert!(id_kind("https://ex.edu/#k").is_err());
        assert!(id_kind("Example University").is_err());
        assert_eq!(
            did_web_url("did:web:ex.edu").as_deref(),
            Some("https://ex.edu/.well-known/did.json")
        );
        assert_eq!(
            did_web_url("did:web:ex.edu:issuers:1").as_deref(),
            Some("https://ex.edu/issuers/1/did.json")
        );
    }

    #[test]
    fn published_documents_list_both_keys_under_assertion_method() {
        let i = Issuer {
            id: "did:web:ex.edu".into(),
            name: Some("Ex".into()),
            url: None,
            status_base: None,
            ed25519: SigningKey::from_bytes(&[1; 32]),
            p256: p256::SecretKey::from_bytes(&[2u8; 32].into()).unwrap(),
        };
        let d = i.did_document();
        assert_eq!(d["assertionMethod"][0], json!(i.ed25519_method()));
        assert_eq!(d["assertionMethod"][1], json!(i.p256_method()));
        assert_eq!(d["verificationMethod"][1]["type"], "Multikey");
        assert_eq!(i.jwks()["keys"][0]["kid"], json!(i.p256_method()));
        assert_eq!(
            i.profile()["assertionMethod"][0]["controller"],
            "did:web:ex.edu"
        );
    }
}
