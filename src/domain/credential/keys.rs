//! Public keys as Data Integrity and DIDs name them: Multikey (`publicKeyMultibase`: base58btc
//! of a multicodec prefix and the key), `did:key`, and JWKs for P-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::elliptic_curve::sec1::ToSec1Point;
use serde_json::{Value, json};

const ED25519_PUB: [u8; 2] = [0xed, 0x01];
const P256_PUB: [u8; 2] = [0x80, 0x24];

/// A verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519([u8; 32]),
    /// SEC1 compressed point (33 bytes).
    P256(Vec<u8>),
}

impl PublicKey {
    /// `z` + base58btc(multicodec ‖ key).
    pub fn multibase(&self) -> String {
        let (prefix, key): (&[u8], &[u8]) = match self {
            PublicKey::Ed25519(k) => (&ED25519_PUB, k),
            PublicKey::P256(k) => (&P256_PUB, k),
        };
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(key);
        format!("z{}", bs58::encode(bytes).into_string())
    }

    /// Reads a `publicKeyMultibase` value.
    pub fn from_multibase(s: &str) -> Result<PublicKey, String> {
        let body = s
            .strip_prefix('z')
            .ok_or_else(|| format!("{s:?} is not base58btc multibase (it must start with z)"))?;
        let bytes = bs58::decode(body)
            .into_vec()
            .map_err(|e| format!("{s:?} is not base58btc: {e}"))?;
        match bytes.split_at_checked(2) {
            Some((p, k)) if p == ED25519_PUB && k.len() == 32 => {
                Ok(PublicKey::Ed25519(k.try_into().expect("32 bytes")))
            }
            Some((p, k)) if p == P256_PUB && k.len() == 33 => {
                p256::PublicKey::from_sec1_bytes(k)
                    .map_err(|_| format!("{s:?} is not a P-256 point"))?;
                Ok(PublicKey::P256(k.to_vec()))
            }
            _ => Err(format!("{s:?} is neither an Ed25519 nor a P-256 Multikey")),
        }
    }

    /// The JWK of a P-256 key (`kty` EC, `crv` P-256, `x`, `y`), with `kid` when given.
    pub fn jwk(&self, kid: Option<&str>) -> Option<Value> {
        let PublicKey::P256(sec1) = self else {
            return None;
        };
        let key = p256::PublicKey::from_sec1_bytes(sec1).ok()?;
        let point = key.to_sec1_point(false);
        let mut jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": B64.encode(point.x()?),
            "y": B64.encode(point.y()?),
        });
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        Some(jwk)
    }

    /// Reads a P-256 JWK (`kty` EC, `crv` P-256).
    pub fn from_jwk(jwk: &Value) -> Result<PublicKey, String> {
        let field = |k: &str| {
            jwk.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("the JWK has no {k}"))
        };
        if field("kty")? != "EC" || field("crv")? != "P-256" {
            return Err("the JWK is not a P-256 key (kty EC, crv P-256)".into());
        }
        let coord = |k: &str| -> Result<Vec<u8>, String> {
            let b = B64
                .decode(field(k)?)
                .map_err(|_| format!("the JWK's {k} is not base64url"))?;
            if b.len() == 32 {
                Ok(b)
            } else {
                Err(format!("the JWK's {k} is not 32 bytes"))
            }
        };
        let (x, y) = (coord("x")?, coord("y")?);
        let mut sec1 = vec![4u8];
        sec1.extend_from_slice(&x);
        sec1.extend_from_slice(&y);
        let key = p256::PublicKey::from_sec1_bytes(&sec1)
            .map_err(|_| "the JWK is not a point of P-256".to_string())?;
        Ok(PublicKey::p256(&key))
    }

    /// A P-256 key, compressed.
    pub fn p256(key: &p256::PublicKey) -> PublicKey {
        PublicKey::P256(key.to_sec1_point(true).as_bytes().to_vec())
    }

    /// `did:key:` + the multibase.
    pub fn did_key(&self) -> String {
        format!("did:key:{}", self.multibase())
    }
}

/// The key a `did:key` names (its id, or a verification method `did:key:z…#z…`).
pub fn resolve_did_key(id: &str) -> Option<PublicKey> {
    let rest = id.strip_prefix("did:key:")?;
    let (key, fragment) = match rest.split_once('#') {
        Some((k, f)) => (k, Some(f)),
        None => (rest, None),
    };
    if fragment.is_some_and(|f| f != key) {
        return None;
    }
    PublicKey::from_multibase(key).ok()
}

/// A Multikey verification method document.
pub fn multikey(id: &str, controller: &str, key: &PublicKey) -> Value {
    json!({
        "id": id,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": key.multibase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vectors_multikey() {
        let pk = hex::decode("4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
            .unwrap();
        let key = PublicKey::Ed25519(pk.try_into().unwrap());
        assert_eq!(
            key.multibase(),
            "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
        );
        assert_eq!(PublicKey::from_multibase(&key.multibase()).unwrap(), key);
        let did = key.did_key();
        assert_eq!(
            resolve_did_key(&format!("{did}#{}", key.multibase())),
            Some(key.clone())
        );
        assert_eq!(resolve_did_key(&format!("{did}#other")), None);
    }

    #[test]
    fn p256_round_trips_through_multibase_and_jwk() {
        let sk = p256::SecretKey::from_bytes(&[7u8; 32].into()).unwrap();
        let pk = PublicKey::p256(&sk.public_key());
        assert!(pk.multibase().starts_with("zDn"));
        assert_eq!(PublicKey::from_multibase(&pk.multibase()).unwrap(), pk);
        let jwk = pk.jwk(Some("k")).unwrap();
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), pk);
        assert!(PublicKey::from_multibase("zabc").is_err());
    }
}
