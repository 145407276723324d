//! VC-JWTs as Open Badges 3.0 describes them (§8.2, "JSON Web Token Proof Format"): the
//! payload is the credential itself with the registered claims `iss` (the issuer's id), `jti`
//! (the credential's id), `nbf` (`validFrom`), `exp` (`validUntil`, when it has one) and `sub`
//! (the subject's id, when it has one); signed with ES256; the key named by `kid` (a verification
//! method of the issuer, or a key of its JWKS) or carried as `jwk`. The header has `typ: JWT`
//! and nothing else.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::EncodePrivateKey;
use serde_json::{Value, json};

/// The registered claims a VC-JWT carries for `cred`.
pub fn claims(cred: &Value) -> Result<Value, String> {
    let mut payload = cred.clone();
    let issuer = issuer_id(cred).ok_or("the credential has no issuer id")?;
    let id = cred
        .get("id")
        .and_then(Value::as_str)
        .ok_or("the credential has no id")?;
    let nbf = cred
        .get("validFrom")
        .and_then(Value::as_str)
        .ok_or("the credential has no validFrom")
        .and_then(|t| epoch(t).ok_or("its validFrom is not an RFC 3339 date-time"))?;
    let m = payload
        .as_object_mut()
        .ok_or("the credential is not an object")?;
    m.insert("iss".into(), json!(issuer));
    m.insert("jti".into(), json!(id));
    m.insert("nbf".into(), json!(nbf));
    if let Some(until) = cred.get("validUntil").and_then(Value::as_str) {
        let exp = epoch(until).ok_or("its validUntil is not an RFC 3339 date-time")?;
        m.insert("exp".into(), json!(exp));
    }
    if let Some(sub) = cred
        .pointer("/credentialSubject/id")
        .and_then(Value::as_str)
    {
        m.insert("sub".into(), json!(sub));
    }
    Ok(payload)
}

/// The issuer's id: `issuer` as a string, or its `id`.
pub fn issuer_id(cred: &Value) -> Option<&str> {
    match cred.get("issuer")? {
        Value::String(s) => Some(s),
        v => v.get("id")?.as_str(),
    }
}

/// Seconds since the epoch of an RFC 3339 date-time.
pub fn epoch(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp())
}

/// The compact JWS of `cred`, signed with `key`, naming it `kid`.
pub fn sign(cred: &Value, key: &p256::SecretKey, kid: &str) -> Result<String, String> {
    let der = key
        .to_pkcs8_der()
        .map_err(|e| format!("the P-256 key cannot be encoded: {e}"))?;
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("JWT".into());
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        &claims(cred)?,
        &EncodingKey::from_ec_der(der.as_bytes()),
    )
    .map_err(|e| format!("cannot sign the JWT: {e}"))
}

/// The parts of a JWT before its signature is checked.
pub struct Unverified {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub jwk: Option<Value>,
    pub payload: Value,
}

/// Reads a compact JWS without checking it.
pub fn parse(token: &str) -> Result<Unverified, String> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| format!("it is not a JWT: its header cannot be read ({e})"))?;
    if header
        .typ
        .as_deref()
        .is_some_and(|t| t != "JWT" && t != "vc+jwt")
    {
        return Err(format!(
            "its JWT header says typ {:?}, not JWT",
            header.typ.unwrap_or_default()
        ));
    }
    let body = token.split('.').nth(1).ok_or("it is not a JWT")?;
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| "its JWT payload is not base64url")?;
    let payload: Value =
        serde_json::from_slice(&bytes).map_err(|_| "its JWT payload is not JSON")?;
    Ok(Unverified {
        alg: header.alg,
        kid: header.kid,
        jwk: header
            .jwk
            .as_ref()
            .and_then(|j| serde_json::to_value(j).ok()),
        payload,
    })
}

/// Checks the signature of `token` with the JWK `jwk` (EC P-256 for ES256, RSA for RS256).
/// Dates are checked by the caller, against the credential's own.
pub fn verify(token: &str, alg: Algorithm, jwk: &Value) -> Result<(), String> {
    if !matches!(alg, Algorithm::ES256 | Algorithm::RS256) {
        return Err(format!(
            "its JWT is signed with {alg:?}; assay checks ES256 and RS256"
        ));
    }
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone())
        .map_err(|e| format!("its key is not a usable JWK: {e}"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("its key is not usable: {e}"))?;
    let mut v = Validation::new(alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &v).map(|_| ()).map_err(|e| {
        match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => "the JWT's signature does not match: the credential was changed after it was signed, or signed by another key".to_string(),
            _ => format!("its JWT does not verify: {e}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::credential::keys::PublicKey;

    #[test]
    fn signs_and_verifies_with_the_claims_set() {
        let cred = json!({
            "id": "urn:uuid:1", "issuer": {"id": "did:web:ex.edu"},
            "validFrom": "2026-01-02T03:04:05Z",
            "credentialSubject": {"id": "did:example:me"}, "name": "N"
        });
        let key = p256::SecretKey::from_bytes(&[3u8; 32].into()).unwrap();
        let t = sign(&cred, &key, "did:web:ex.edu#k").unwrap();
        let u = parse(&t).unwrap();
        assert_eq!(u.kid.as_deref(), Some("did:web:ex.edu#k"));
        assert_eq!(u.payload["iss"], "did:web:ex.edu");
        assert_eq!(u.payload["jti"], "urn:uuid:1");
        assert_eq!(u.payload["sub"], "did:example:me");
        assert_eq!(u.payload["nbf"], 1767323045);
        assert_eq!(u.payload["name"], "N");
        let jwk = PublicKey::p256(&key.public_key()).jwk(None).unwrap();
        verify(&t, u.alg, &jwk).unwrap();
        let other = p256::SecretKey::from_bytes(&[4u8; 32].into()).unwrap();
        let jwk2 = PublicKey::p256(&other.public_key()).jwk(None).unwrap();
        assert!(
            verify(&t, u.alg, &jwk2)
                .unwrap_err()
                .contains("does not match")
        );
        // a changed payload
        let parts: Vec<&str> = t.split('.').collect();
        use base64::Engine;
        let mut p = u.payload.clone();
        p["name"] = json!("M");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(p.to_string()),
            parts[2]
        );
        assert!(verify(&forged, u.alg, &jwk).is_err());
    }
}
