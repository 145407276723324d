//! A record's JSON as the replay reads it: parsed by `serde_json`'s own parser, but into a tree
//! that borrows its texts from the record (a text with an escape in it is the only one copied),
//! with objects as lists of their entries. It answers exactly as `serde_json::Value` would:
//! the last of two entries with the same key is the one read, numbers are read as
//! `serde_json::Number` reads them, and [`J::to_value`] gives the `Value` itself where its
//! canonical text is needed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A JSON value borrowed from the text it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub enum J<'a> {
    Null,
    Bool(bool),
    /// A whole number of zero or more (as `serde_json::Number` keeps it).
    PosInt(u64),
    /// A whole number below zero.
    NegInt(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Arr(Vec<J<'a>>),
    /// The entries in the order written (a key written twice is there twice).
    Obj(Vec<(Cow<'a, str>, J<'a>)>),
}

impl<'a> J<'a> {
    /// Parses `s` (the same errors as `serde_json::from_str::<Value>`).
    pub fn parse(s: &'a str) -> serde_json::Result<J<'a>> {
        serde_json::from_str(s)
    }

    /// The value of key `k` of an object (the last entry of that key, as `Value::get`).
    pub fn get(&self, k: &str) -> Option<&J<'a>> {
        match self {
            J::Obj(entries) => entries.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            J::PosInt(u) => i64::try_from(u).ok(),
            J::NegInt(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            J::PosInt(u) => Some(u as f64),
            J::NegInt(i) => Some(i as f64),
            J::Float(f) => Some(f),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            J::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[J<'a>]> {
        match self {
            J::Arr(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, J::Null)
    }

    /// The first entry of an object as `serde_json::Value`'s map orders its entries (by key;
    /// a key written twice holds its last value).
    pub fn first_entry(&self) -> Option<(&str, &J<'a>)> {
        let J::Obj(entries) = self else {
            return None;
        };
        let k = entries.iter().map(|(n, _)| n.as_ref()).min()?;
        self.get(k).map(|v| (k, v))
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::PosInt(u) => Value::from(*u),
            J::NegInt(i) => Value::from(*i),
            J::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            J::Str(s) => Value::String(s.to_string()),
            J::Arr(v) => Value::Array(v.iter().map(J::to_value).collect()),
            J::Obj(entries) => {
                let mut m = serde_json::Map::new();
                for (k, v) in entries {
                    m.insert(k.to_string(), v.to_value());
                }
                Value::Object(m)
            }
        }
    }

    /// The canonical text of the value: what `serde_json::to_string` writes of it as a
    /// `Value`.
    pub fn to_canonical(&self) -> String {
        match self {
            // (the common case, a list of texts, written without building the `Value`)
            J::Arr(v) if v.iter().all(|x| matches!(x, J::Str(_))) => {
                let texts: Vec<&str> = v.iter().filter_map(J::as_str).collect();
                serde_json::to_string(&texts).expect("texts serialise")
            }
            other => other.to_value().to_string(),
        }
    }
}

/// A text that borrows from the input where it can.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

impl<'de> Deserialize<'de> for J<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct JVisitor;
        impl<'de> Visitor<'de> for JVisitor {
            type Value = J<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any valid JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(J::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                // (as `serde_json::Number` keeps it: zero and more as unsigned)
                Ok(match u64::try_from(v) {
                    Ok(u) => J::PosInt(u),
                    Err(_) => J::NegInt(v),
                })
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(J::PosInt(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                // (as `serde_json::Value`: a number that is not finite is null)
                Ok(if v.is_finite() { J::Float(v) } else { J::Null })
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(J::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(J::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(J::Str(Cow::Owned(v)))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(J::Null)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(J::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Deserialize::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((Text(k), x)) = map.next_entry::<Text<'de>, J<'de>>()? {
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(JVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every question the replay asks gets the answer `serde_json::Value` gives.
    fn same(text: &str) {
        let v: Result<Value, _> = serde_json::from_str(text);
        let j = J::parse(text);
        assert_eq!(v.is_ok(), j.is_ok(), "{text}");
        let (Ok(v), Ok(j)) = (v, j) else { return };
        assert_eq!(j.to_value(), v, "{text}");
        assert_eq!(j.to_canonical(), v.to_string(), "{text}");
        assert_eq!(j.as_str(), v.as_str(), "{text}");
        assert_eq!(j.as_i64(), v.as_i64(), "{text}");
        assert_eq!(j.as_f64(), v.as_f64(), "{text}");
        assert_eq!(j.as_bool(), v.as_bool(), "{text}");
        assert_eq!(j.is_null(), v.is_null(), "{text}");
        assert_eq!(j.as_array().map(<[_]>::len), v.as_array().map(Vec::len));
        for k in ["a", "b", "", "é", "x\"y"] {
            assert_eq!(j.get(k).map(J::to_value), v.get(k).cloned(), "{text} [{k}]");
        }
        let first = v
            .as_object()
            .and_then(|o| o.iter().next())
            .map(|(k, x)| (k.clone(), x.clone()));
        assert_eq!(
            j.first_entry().map(|(k, x)| (k.to_string(), x.to_value())),
            first,
            "{text}"
        );
    }

    #[test]
    fn answers_as_serde_json_does() {
        for text in [
            "null",
            "true",
            "0",
            "-0",
            "-1",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.5",
            "27.0",
            "1e3",
            "-1e-300",
            "1e400",
            "\"plain\"",
            "\"esc\\\"aped\\n\\u00e9\\ud83d\\ude00\"",
            "\"\\ud800\"",
            "[]",
            "[\"a\",\"b\\\"\"]",
            "[\"a\",1]",
            "{}",
            "{\"a\":1,\"b\":2}",
            "{\"b\":1,\"a\":2}",
            "{\"a\":1,\"a\":2}",
            "{\"b\":[1,{\"a\":null}],\"a\":{\"a\":1,\"a\":\"x\"}}",
            "{\"x\\\"y\":1,\"\\u00e9\":2,\"\":3}",
            "{\"a\":1,}",
            "[1,]",
            "{\"a\" 1}",
            "nul",
            "1 2",
            "",
            "  {\"a\":\"b\"}  ",
            "{\"t\":\"x\",\"i\":1}",
        ] {
            same(text);
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        same(&deep);
    }

    #[test]
    fn texts_without_escapes_are_borrowed() {
        let j = J::parse("{\"a\":\"plain\",\"b\":\"x\\ny\"}").unwrap();
        assert!(matches!(j.get("a"), Some(J::Str(Cow::Borrowed("plain")))));
        assert!(matches!(j.get("b"), Some(J::Str(Cow::Owned(_)))));
    }
}
