//! JSON-LD to canonical N-Quads, offline: the RDF Dataset Canonicalization (RDFC-1.0) of a
//! JSON-LD document, as the `eddsa-rdfc-2022` cryptosuite hashes it.
//!
//! Contexts are never fetched. The four a credential of assay's uses (VC 2.0, Open Badges 3.0.3,
//! Data Integrity 2, Multikey 1) are vendored in the binary (`assets/contexts/`) and pinned by
//! SHA-256 (a test checks the pins); a document naming any other remote context is refused with
//! the context's URL.
//!
//! The leading remote contexts of a document (the VC and OB contexts of every credential) are
//! processed once and kept: a document is then expanded from that processed context with the rest
//! of its `@context` (assay's inline `{"assay": …}` prefix) applied on top, which is what
//! processing the whole array from the empty context does, in that order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use json_ld::context_processing::{Options as ContextOptions, Process};
use json_ld::expansion::{Expand, Options as ExpandOptions};
use json_ld::rdf::RdfQuads;
use json_ld::syntax::{Parse, TryFromJson};
use json_ld::{IriBuf, RemoteDocument};
use serde_json::Value;

/// A vendored context: its URL, its bytes and their SHA-256 (hex).
pub struct Vendored {
    pub url: &'static str,
    pub bytes: &'static [u8],
    pub sha256: &'static str,
}

/// The contexts assay knows, by URL.
pub const CONTEXTS: [Vendored; 4] = [
    Vendored {
        url: "https://www.w3.org/ns/credentials/v2",
        bytes: include_bytes!("../../../assets/contexts/credentials-v2.jsonld"),
        sha256: "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    },
    Vendored {
        url: "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        bytes: include_bytes!("../../../assets/contexts/ob-context-3.0.3.json"),
        sha256: "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    },
    Vendored {
        url: "https://w3id.org/security/data-integrity/v2",
        bytes: include_bytes!("../../../assets/contexts/data-integrity-v2.jsonld"),
        sha256: "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
    },
    Vendored {
        url: "https://w3id.org/security/multikey/v1",
        bytes: include_bytes!("../../../assets/contexts/multikey-v1.jsonld"),
        sha256: "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
    },
];

type Context = json_ld::Context<IriBuf, json_ld::BlankIdBuf>;

/// Why a document has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LdError {
    #[error(
        "it names the context {0}, which assay does not have (contexts are never fetched; assay has {known})",
        known = known_contexts()
    )]
    UnknownContext(String),
    #[error("it is not valid JSON-LD: {0}")]
    Invalid(String),
}

fn known_contexts() -> String {
    CONTEXTS
        .iter()
        .map(|c| c.url)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The processor: the vendored contexts as a loader and the processed leading contexts seen so
/// far. Shared between threads.
pub struct Canonicalizer {
    loader: HashMap<IriBuf, RemoteDocument>,
    processed: Mutex<HashMap<Vec<String>, Arc<Context>>>,
}

impl Default for Canonicalizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Canonicalizer {
    pub fn new() -> Self {
        let mut loader = HashMap::new();
        for c in &CONTEXTS {
            let text = std::str::from_utf8(c.bytes).expect("a vendored context is UTF-8");
            let value = json_ld::syntax::Value::parse_str(text)
                .expect("a vendored context is JSON")
                .0;
            let iri = IriBuf::new(c.url.to_string()).expect("a vendored context's URL is an IRI");
            loader.insert(
                iri.clone(),
                RemoteDocument::new(
                    Some(iri),
                    Some("application/ld+json".parse().expect("a media type")),
                    value,
                ),
            );
        }
        Self {
            loader,
            processed: Mutex::new(HashMap::new()),
        }
    }

    /// The canonical N-Quads (RDFC-1.0) of `doc`.
    pub fn canonical(&self, doc: &Value) -> Result<String, LdError> {
        let mut doc = doc.clone();
        // The leading remote contexts this processor has, taken off the document and applied
        // as the initial context.
        let mut lead = Vec::new();
        if let Some(Value::Array(list)) = doc.get_mut("@context") {
            while let Some(Value::String(url)) = list.first() {
                if !self.has(url) {
                    return Err(LdError::UnknownContext(url.clone()));
                }
                lead.push(url.clone());
                list.remove(0);
            }
        } else if let Some(Value::String(url)) = doc.get("@context") {
            if !self.has(url) {
                return Err(LdError::UnknownContext(url.clone()));
            }
            lead.push(url.clone());
            if let Value::Object(m) = &mut doc {
                m.remove("@context");
            }
        }
        if let Some(Value::Array(list)) = doc.get("@context") {
            if list.is_empty() {
                if let Value::Object(m) = &mut doc {
                    m.remove("@context");
                }
            } else if let Some(url) = list
                .iter()
                .filter_map(|v| v.as_str())
                .find(|u| !self.has(u))
            {
                return Err(LdError::UnknownContext(url.to_string()));
            }
        }
        let initial = self.initial(&lead)?;
        let value = json_syntax::Value::from_serde_json(doc);
        let mut vocabulary = ();
        let expanded = pollster::block_on(value.expand_full(
            &mut vocabulary,
            (*initial).clone(),
            None,
            &self.loader,
            ExpandOptions::default().unordered(),
            (),
        ))
        .map_err(|e| LdError::Invalid(e.to_string()))?;
        let mut expanded = expanded;
        let mut generator = rdf_types::generator::Blank::new();
        expanded.relabel_and_canonicalize_with(&mut vocabulary, &mut generator);
        let mut dataset = oxrdf::Dataset::new();
        for quad in expanded
            .rdf_quads_full(&mut vocabulary, &mut generator, None, false)
            .cloned()
        {
            let rdf_types::Quad(s, p, o, g) = quad;
            let s = subject(s);
            let p = oxrdf::NamedNode::new_unchecked(p.as_str());
            let o: oxrdf::Term = match o {
                rdf_types::Term::Id(i) => term(subject(i)),
                rdf_types::Term::Literal(l) => match l.type_ {
                    rdf_types::LiteralType::Any(t) => oxrdf::Literal::new_typed_literal(
                        l.value,
                        oxrdf::NamedNode::new_unchecked(t.as_str()),
                    )
                    .into(),
                    rdf_types::LiteralType::LangString(tag) => {
                        oxrdf::Literal::new_language_tagged_literal_unchecked(
                            l.value,
                            tag.as_str().to_ascii_lowercase(),
                        )
                        .into()
                    }
                },
            };
            let g = match g.map(subject) {
                None => oxrdf::GraphName::DefaultGraph,
                Some(oxrdf::Subject::NamedNode(n)) => n.into(),
                Some(oxrdf::Subject::BlankNode(b)) => b.into(),
                #[allow(unreachable_patterns)]
                Some(_) => oxrdf::GraphName::DefaultGraph,
            };
            dataset.insert(oxrdf::QuadRef::new(&s, &p, &o, &g));
        }
        rdf_canon::canonicalize(&dataset).map_err(|e| LdError::Invalid(e.to_string()))
    }

    fn has(&self, url: &str) -> bool {
        CONTEXTS.iter().any(|c| c.url == url)
    }

    /// The processed context of `lead` (in order), processed once.
    fn initial(&self, lead: &[String]) -> Result<Arc<Context>, LdError> {
        if let Some(c) = self
            .processed
            .lock()
            .ok()
            .and_then(|m| m.get(lead).cloned())
        {
            return Ok(c);
        }
        let local = json_ld::syntax::context::Context::try_from_json(json_syntax::Value::Array(
            lead.iter()
                .map(|u| json_syntax::Value::String(u.as_str().into()))
                .collect(),
        ))
        .map_err(|e| LdError::Invalid(e.to_string()))?;
        let mut vocabulary = ();
        let empty = Context::new(None);
        let processed = pollster::block_on(local.process_full(
            &mut vocabulary,
            &empty,
            &self.loader,
            None,
            ContextOptions::default(),
            (),
        ))
        .map_err(|e| LdError::Invalid(e.to_string()))?
        .into_processed();
        let processed = Arc::new(processed);
        if let Ok(mut m) = self.processed.lock() {
            m.insert(lead.to_vec(), processed.clone());
        }
        Ok(processed)
    }
}

fn subject(i: rdf_types::Id) -> oxrdf::Subject {
    match i {
        rdf_types::Id::Iri(i) => oxrdf::NamedNode::new_unchecked(i.as_str()).into(),
        rdf_types::Id::Blank(b) => {
            let s = b.as_str();
            oxrdf::BlankNode::new_unchecked(s.strip_prefix("_:").unwrap_or(s)).into()
        }
    }
}

fn term(s: oxrdf::Subject) -> oxrdf::Term {
    match s {
        oxrdf::Subject::NamedNode(n) => n.into(),
        oxrdf::Subject::BlankNode(b) => b.into(),
        #[allow(unreachable_patterns)]
        other => oxrdf::Term::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_vendored_contexts_are_the_pinned_ones() {
        for c in &CONTEXTS {
            assert_eq!(hex::encode(Sha256::digest(c.bytes)), c.sha256, "{}", c.url);
        }
    }
}
