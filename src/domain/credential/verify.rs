//! Checking a credential offline: its signature (a Data Integrity `eddsa-rdfc-2022` proof or a
//! VC-JWT), that the key is its issuer's (a `did:key`, or a key the issuer published: its
//! profile, DID document or JWKS, given as [`KeySet`]), the Open Badges 3.0 schema, its dates and
//! its status (a Bitstring status list given in the same set).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::jwt;
use super::keys::{self, PublicKey};
use super::ld::Canonicalizer;
use super::proof;
use super::status;

/// Published documents, by id: issuer profiles, DID documents, status list credentials; and the
/// keys of JWKS, by `kid`.
#[derive(Default)]
pub struct KeySet {
    docs: HashMap<String, Value>,
    jwks: HashMap<String, Value>,
}

impl KeySet {
    /// Adds one published document (a JWKS adds its keys).
    pub fn add(&mut self, doc: Value) {
        if let Some(keys) = doc.get("keys").and_then(Value::as_array) {
            for k in keys {
                if let Some(kid) = k.get("kid").and_then(Value::as_str) {
                    self.jwks.insert(kid.to_string(), k.clone());
                }
            }
        } else if let Some(id) = doc.get("id").and_then(Value::as_str) {
            self.docs.insert(id.to_string(), doc);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty() && self.jwks.is_empty()
    }

    /// The verification method `vm` of `controller` listed under `assertionMethod`: its
    /// Multikey or JWK.
    fn assertion_method(&self, controller: &str, vm: &str) -> Result<Method, String> {
        if let Some(key) = keys::resolve_did_key(vm)
            && vm.starts_with(controller)
        {
            return Ok(Method::Key(key));
        }
        let Some(doc) = self.docs.get(controller) else {
            return Err(format!(
                "the key {vm} is not known: {controller} is not a did:key, and no published document of it was given (--keys DIR with its profile, did.json or jwks.json)"
            ));
        };
        let listed =
            |m: &Value| m.as_str() == Some(vm) || m.get("id").and_then(Value::as_str) == Some(vm);
        let assertion = doc
            .get("assertionMethod")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(entry) = assertion.iter().find(|m| listed(m)) else {
            return Err(format!(
                "{controller}'s published document does not list the key {vm} under assertionMethod"
            ));
        };
        let method = if entry.is_string() {
            doc.get("verificationMethod")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|m| listed(m)))
                .ok_or_else(|| {
                    format!("{controller}'s published document lists {vm} but does not describe it")
                })?
        } else {
            entry
        };
        if method
            .get("controller")
            .and_then(Value::as_str)
            .is_some_and(|c| c != controller)
        {
            return Err(format!(
                "the key {vm} is controlled by another than {controller}"
            ));
        }
        if let Some(mb) = method.get("publicKeyMultibase").and_then(Value::as_str) {
            return PublicKey::from_multibase(mb).map(Method::Key);
        }
        if let Some(jwk) = method.get("publicKeyJwk") {
            return Ok(Method::Jwk(jwk.clone()));
        }
        Err(format!(
            "the key {vm} has neither publicKeyMultibase nor publicKeyJwk"
        ))
    }
}

enum Method {
    Key(PublicKey),
    Jwk(Value),
}

/// In which form a credential was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    DataIntegrity,
    Jwt,
}

/// What a status check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It carries no status entry.
    None,
    /// Its list was given and its bit is clear.
    Valid,
    /// Its list was not among the published documents given.
    NotChecked(String),
}

/// A credential that verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub id: String,
    pub issuer: String,
    pub name: String,
    pub form: Form,
    pub status: Status,
}

fn schema() -> &'static Result<jsonschema::Validator, String> {
    static V: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(include_str!(
            "../../../assets/schemas/ob_v3p0_achievementcredential.schema.json"
        ))
        .map_err(|e| e.to_string())?;
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| e.to_string())
    })
}

/// The first OB 3.0 schema error of `cred`.
pub fn schema_error(cred: &Value) -> Option<String> {
    match schema() {
        Err(e) => Some(format!("the OB 3.0 schema cannot be compiled: {e}")),
        Ok(v) => {
            // A single proof object is what Data Integrity and 1EdTech's own test vector write;
            // the schema lists proofs as an array: one object is read as a list of one.
            let mut cred = cred.clone();
            if let Some(p) = cred.get_mut("proof").filter(|p| p.is_object()) {
                *p = Value::Array(vec![p.take()]);
            }
            v.iter_errors(&cred).next().map(|e| {
                let at = e.instance_path().to_string();
                let mut what = e.to_string();
                if what.chars().count() > 160 {
                    what = what.chars().take(160).collect::<String>() + "…";
                }
                format!(
                    "it does not follow the Open Badges 3.0 schema: {what} (at {})",
                    if at.is_empty() { "/".into() } else { at }
                )
            })
        }
    }
}

/// Verifies one credential: JSON with a Data Integrity proof, or a compact VC-JWT. `now` is an
/// RFC 3339 instant. The error names the first problem.
pub fn verify(
    ld: &Canonicalizer,
    text: &str,
    keys: &KeySet,
    now: &str,
) -> Result<Verified, String> {
    check(ld, text, keys, now, true)
}

/// [`verify`]; `ob`: also against the Open Badges schema (not for a status list).
fn check(
    ld: &Canonicalizer,
    text: &str,
    keys: &KeySet,
    now: &str,
    ob: bool,
) -> Result<Verified, String> {
    let text = text.trim();
    // (a JWT's header and payload, read once)
    let mut token = None;
    let (cred, form) = if text.starts_with('{') {
        let cred: Value = serde_json::from_str(text).map_err(|e| format!("it is not JSON: {e}"))?;
        (cred, Form::DataIntegrity)
    } else if text.split('.').count() == 3 && !text.contains(char::is_whitespace) {
        let t = jwt::parse(text)?;
        let payload = t.payload.clone();
        token = Some(t);
        (payload, Form::Jwt)
    } else {
        return Err("it is neither a JSON credential nor a compact JWT".into());
    };
    let issuer = jwt::issuer_id(&cred)
        .ok_or("it has no issuer id")?
        .to_string();
    match form {
        Form::DataIntegrity => {
            let (_, vm) = proof::proof_of(&cred).map_err(|e| e.to_string())?;
            let controller = vm.split('#').next().unwrap_or(vm);
            if controller != issuer {
                return Err(format!(
                    "it is signed with a key of {controller}, not of its issuer {issuer}"
                ));
            }
            match keys.assertion_method(controller, vm)? {
                Method::Key(PublicKey::Ed25519(pk)) => {
                    proof::verify(ld, &cred, &pk).map_err(|e| e.to_string())?
                }
                _ => {
                    return Err(format!(
                        "the key {vm} is not an Ed25519 key, which {} needs",
                        proof::CRYPTOSUITE
                    ));
                }
            }
        }
        Form::Jwt => {
            let u = token.ok_or("it is not a JWT")?;
            let jwk = match (&u.kid, &u.jwk) {
                (Some(kid), _) => {
                    if let Some(k) = keys.jwks.get(kid) {
                        k.clone()
                    } else {
                        let controller = kid.split('#').next().unwrap_or(kid);
                        if controller != issuer {
                            return Err(format!(
                                "its JWT is signed with a key of {controller}, not of its issuer {issuer}"
                            ));
                        }
                        match keys.assertion_method(controller, kid)? {
                            Method::Jwk(j) => j,
                            Method::Key(k) => k.jwk(None).ok_or_else(|| {
                                format!("the key {kid} is not a P-256 key, which ES256 needs")
                            })?,
                        }
                    }
                }
                (None, Some(carried)) => {
                    // A carried key counts only when its issuer published it.
                    let published = keys.docs.get(&issuer).is_some_and(|d| {
                        let mut all = Vec::new();
                        for k in ["assertionMethod", "verificationMethod"] {
                            if let Some(a) = d.get(k).and_then(Value::as_array) {
                                all.extend(a.iter().cloned());
                            }
                        }
                        all.iter().any(|m| {
                            let key = m
                                .get("publicKeyMultibase")
                                .and_then(Value::as_str)
                                .and_then(|mb| PublicKey::from_multibase(mb).ok())
                                .and_then(|k| k.jwk(None));
                            same_jwk(key.as_ref(), carried)
                                || same_jwk(m.get("publicKeyJwk"), carried)
                        })
                    }) || keys.jwks.values().any(|k| same_jwk(Some(k), carried));
                    if !published {
                        return Err(format!(
                            "its JWT carries its own key, which is not a published key of its issuer {issuer}"
                        ));
                    }
                    carried.clone()
                }
                (None, None) => return Err("its JWT names no key (no kid, no jwk)".into()),
            };
            jwt::verify(text, u.alg, &jwk)?;
            for (claim, want) in [
                ("iss", Some(issuer.as_str())),
                ("jti", cred.get("id").and_then(Value::as_str)),
            ] {
                if let Some(got) = cred.get(claim)
                    && got.as_str() != want
                {
                    return Err(format!("its JWT's {claim} does not match the credential"));
                }
            }
        }
    }
    if ob && let Some(e) = schema_error(&strip_jwt_claims(&cred)) {
        return Err(e);
    }
    let now_s = jwt::epoch(now).ok_or("the time now is not RFC 3339")?;
    if let Some(from) = cred.get("validFrom").and_then(Value::as_str) {
        match jwt::epoch(from) {
            Some(t) if t > now_s => return Err(format!("it is not valid before {from}")),
            None => return Err(format!("its validFrom {from:?} is not a date-time")),
            _ => {}
        }
    }
    if let Some(until) = cred.get("validUntil").and_then(Value::as_str) {
        match jwt::epoch(until) {
            Some(t) if t <= now_s => return Err(format!("it expired on {until}")),
            None => return Err(format!("its validUntil {until:?} is not a date-time")),
            _ => {}
        }
    }
    // (a status list's own status is not followed: a list naming itself would never end)
    let status = if ob {
        check_status(ld, &cred, &issuer, keys, now)?
    } else {
        Status::None
    };
    Ok(Verified {
        id: cred
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        name: cred
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        issuer,
        form,
        status,
    })
}

fn same_jwk(a: Option<&Value>, b: &Value) -> bool {
    a.is_some_and(|a| {
        ["kty", "crv", "x", "y", "n", "e"]
            .iter()
            .all(|k| a.get(k) == b.get(k))
    })
}

fn strip_jwt_claims(cred: &Value) -> Value {
    let mut c = cred.clone();
    if let Value::Object(m) = &mut c {
        for k in ["iss", "jti", "nbf", "exp", "sub", "iat", "aud"] {
            m.remove(k);
        }
    }
    c
}

fn check_status(
    ld: &Canonicalizer,
    cred: &Value,
    issuer: &str,
    keys: &KeySet,
    now: &str,
) -> Result<Status, String> {
    let entries: Vec<&Value> = match cred.get("credentialStatus") {
        None => return Ok(Status::None),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
    };
    let mut result = Status::None;
    for e in entries {
        if e.get("type").and_then(Value::as_str) != Some("BitstringStatusListEntry") {
            continue;
        }
        let url = e
            .get("statusListCredential")
            .and_then(Value::as_str)
            .ok_or("its status entry has no statusListCredential")?;
        let bit: u64 = e
            .get("statusListIndex")
            .and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
            .and_then(|s| s.parse().ok())
            .ok_or("its status entry's statusListIndex is not a number")?;
        let purpose = e.get("statusPurpose").and_then(Value::as_str).unwrap_or("");
        let Some(list) = keys.docs.get(url) else {
            result = Status::NotChecked(url.to_string());
            continue;
        };
        // The list must be its issuer's and signed.
        check(ld, &list.to_string(), keys, now, false)
            .map_err(|e| format!("its status list {url} does not verify: {e}"))?;
        if jwt::issuer_id(list) != Some(issuer) {
            return Err(format!("its status list {url} is not its issuer's"));
        }
        if list
            .pointer("/credentialSubject/statusPurpose")
            .and_then(Value::as_str)
            != Some(purpose)
        {
            return Err(format!("its status list {url} is not a {purpose} list"));
        }
        let encoded = list
            .pointer("/credentialSubject/encodedList")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("its status list {url} has no encodedList"))?;
        let bits = status::decode(encoded).map_err(|e| format!("its status list {url}: {e}"))?;
        match status::is_set(&bits, bit) {
            None => return Err(format!("its status list {url} has no entry {bit}")),
            Some(true) if purpose == "revocation" => {
                return Err(format!(
                    "it has been revoked (status list {url}, entry {bit})"
                ));
            }
            Some(true) => {
                return Err(format!(
                    "it has been suspended (status list {url}, entry {bit})"
                ));
            }
            Some(false) => {
                if result == Status::None {
                    result = Status::Valid;
                }
            }
        }
    }
    Ok(result)
}
