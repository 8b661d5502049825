//! Typed, bounded access to fields of untrusted JSON: every error names the file and the field
//! path (`verificationMaterial.tlogEntries[0].inclusionProof.hashes[3]`), every decoded field has a
//! size cap, so a hostile document cannot make the parsers allocate without limit.

use super::{TransparencyError, MAX_BASE64_FIELD, MAX_INPUT_BYTES};
use base64::Engine;
use serde_json::Value;

/// Most JSON values (array elements and object members) a document may have. A `serde_json::Value`
/// costs about 32 bytes per element however short its text, so `[0,0,0,…]` in 32 MiB would take
/// half a gigabyte; real entries and bundles have a few hundred values.
pub const MAX_JSON_VALUES: usize = 1_000_000;

/// Parses a whole document, refusing inputs above [`MAX_INPUT_BYTES`] or with more than
/// [`MAX_JSON_VALUES`] values. serde_json's own recursion limit (128 levels) bounds nesting.
pub fn parse_document(file: &str, bytes: &[u8]) -> Result<Value, TransparencyError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(TransparencyError::TooLarge {
            file: file.to_owned(),
            size: bytes.len() as u64,
            limit: MAX_INPUT_BYTES as u64,
        });
    }
    let values = count_separators(bytes);
    if values > MAX_JSON_VALUES {
        return Err(TransparencyError::Field {
            file: file.to_owned(),
            field: "(document)".to_owned(),
            problem: format!(
                "more than {MAX_JSON_VALUES} JSON values ({values} separators): refused before parsing"
            ),
        });
    }
    serde_json::from_slice(bytes).map_err(|source| TransparencyError::Json {
        file: file.to_owned(),
        source,
    })
}

/// Counts `,` and `:` outside strings: an upper bound on the values a parse would allocate, found
/// without allocating.
fn count_separators(bytes: &[u8]) -> usize {
    let (mut n, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b',' | b':' => n += 1,
                _ => {}
            }
        }
    }
    n
}

/// An owned path buffer for children, so callers can build `a.b[3]` paths without lifetimes
/// getting in the way.
pub struct Node<'a> {
    pub file: &'a str,
    pub path: String,
    pub value: &'a Value,
}

impl<'a> Node<'a> {
    pub fn root(file: &'a str, value: &'a Value) -> Self {
        Node {
            file,
            path: String::new(),
            value,
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn error(&self, problem: impl Into<String>) -> TransparencyError {
        TransparencyError::Field {
            file: self.file.to_owned(),
            field: if self.path.is_empty() {
                "(document)".to_owned()
            } else {
                self.path.clone()
            },
            problem: problem.into(),
        }
    }

    fn missing(&self, key: &str) -> TransparencyError {
        TransparencyError::Field {
            file: self.file.to_owned(),
            field: self.child_path(key),
            problem: "missing".to_owned(),
        }
    }

    /// The child `key`, if present and not null.
    pub fn opt(&self, key: &str) -> Option<Node<'a>> {
        match self.value.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(Node {
                file: self.file,
                path: self.child_path(key),
                value: v,
            }),
        }
    }

    pub fn req(&self, key: &str) -> Result<Node<'a>, TransparencyError> {
        self.opt(key).ok_or_else(|| self.missing(key))
    }

    /// The elements of an array, refusing more than `max`.
    pub fn array(&self, max: usize) -> Result<Vec<Node<'a>>, TransparencyError> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.error("expected an array"))?;
        if items.len() > max {
            return Err(self.error(format!(
                "{} elements, more than the limit of {max}",
                items.len()
            )));
        }
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| Node {
                file: self.file,
                path: format!("{}[{i}]", self.path),
                value: v,
            })
            .collect())
    }

    /// The members of an object in document order.
    pub fn members(&self) -> Result<Vec<(&'a str, Node<'a>)>, TransparencyError> {
        let map = self
            .value
            .as_object()
            .ok_or_else(|| self.error("expected an object"))?;
        Ok(map
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    Node {
                        file: self.file,
                        path: self.child_path(k),
                        value: v,
                    },
                )
            })
            .collect())
    }

    pub fn str(&self) -> Result<&'a str, TransparencyError> {
        let s = self
            .value
            .as_str()
            .ok_or_else(|| self.error("expected a string"))?;
        if s.len() > MAX_BASE64_FIELD {
            return Err(self.error(format!(
                "{} bytes, more than the field limit of {MAX_BASE64_FIELD}",
                s.len()
            )));
        }
        Ok(s)
    }

    /// An integer given as a JSON number or, as protobuf JSON writes int64, a decimal string.
    pub fn int(&self) -> Result<i64, TransparencyError> {
        match self.value {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| self.error("expected an integer in the i64 range")),
            Value::String(s) => s
                .parse::<i64>()
                .map_err(|_| self.error(format!("expected an integer, found {s:?}"))),
            _ => Err(self.error("expected an integer")),
        }
    }

    pub fn uint(&self) -> Result<u64, TransparencyError> {
        let v = self.int()?;
        u64::try_from(v)
            .map_err(|_| self.error(format!("expected a non-negative integer, found {v}")))
    }

    /// Standard base64 (padding optional), at most `max` decoded bytes.
    pub fn base64(&self, max: usize) -> Result<Vec<u8>, TransparencyError> {
        let s = self.str()?;
        decode_base64(s, max).map_err(|p| self.error(p))
    }

    /// Lower- or upper-case hex, at most `max` decoded bytes.
    pub fn hex(&self, max: usize) -> Result<Vec<u8>, TransparencyError> {
        let s = self.str()?;
        if s.len() / 2 > max {
            return Err(self.error(format!("hex longer than {max} bytes")));
        }
        hex::decode(s).map_err(|e| self.error(format!("invalid hex: {e}")))
    }

    /// A 32-byte hash written as hex.
    pub fn hash_hex(&self) -> Result<[u8; 32], TransparencyError> {
        let v = self.hex(32)?;
        v.try_into()
            .map_err(|v: Vec<u8>| self.error(format!("expected 32 bytes, found {}", v.len())))
    }

    /// A 32-byte hash written as base64.
    pub fn hash_base64(&self) -> Result<[u8; 32], TransparencyError> {
        let v = self.base64(32)?;
        v.try_into()
            .map_err(|v: Vec<u8>| self.error(format!("expected 32 bytes, found {}", v.len())))
    }
}

/// Decodes standard base64 with optional padding; whitespace is not accepted. The length check
/// happens before decoding, so the allocation is bounded by `max`.
pub fn decode_base64(s: &str, max: usize) -> Result<Vec<u8>, String> {
    if s.len() / 4 * 3 > max + 3 {
        return Err(format!("base64 longer than the limit of {max} bytes"));
    }
    let engine = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
    let out = engine
        .decode(s)
        .map_err(|e| format!("invalid base64: {e}"))?;
    if out.len() > max {
        return Err(format!("{} bytes, more than the limit of {max}", out.len()));
    }
    Ok(out)
}

pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
