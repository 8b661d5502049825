//! How times are written in check reasons and errors: RFC 3339 UTC with a `Z`, whole seconds,
//! like the rest of the output. A leaf module so that checks and certificates can share it
//! without importing each other.

use chrono::{DateTime, Utc};

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
