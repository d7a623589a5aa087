//! [`Headers`]: a response's header fields in two allocations, however many there are.
//!
//! A field per `(String, String)` pair would cost two allocations per header line: sixteen for
//! the eight lines nginx sends with a small file, nearly half of the 34 allocations a GET made
//! with them. Here the names (lower-cased) and values are appended to one `String`, and an index
//! records where each field ends in it, so a response head costs one allocation for its text and
//! one for its index when every value is UTF-8 (a value that is not is copied once, to replace
//! its bad bytes, and may grow the text).
//!
//! Invariant: the fields tile `text` in order. Field `i`'s name starts where field `i - 1`'s
//! value ends (at 0 for the first), runs to its `name_end`, and its value runs from there to its
//! `value_end`; every boundary is a `char` boundary, since each piece was appended whole.

use std::borrow::Cow;
use std::fmt;

/// A response's header fields: names lower-cased, values as sent (bytes that are not UTF-8 are
/// replaced, as `String::from_utf8_lossy` does), in the order they came.
///
/// ```
/// use cashier_demos::http::Headers;
///
/// let headers = Headers::from_pairs([("Content-Type", "text/html"), ("ETag", "\"1\"")]);
/// assert_eq!(headers.get("content-type"), Some("text/html"));
/// assert_eq!(headers.get("ETAG"), Some("\"1\""), "names match without regard to case");
/// assert_eq!(headers.iter().next(), Some(("content-type", "text/html")));
/// assert_eq!(headers.len(), 2);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Every name and value, one after the other (see the module doc).
    text: String,
    /// Where each field's name and value end in `text`.
    fields: Vec<Field>,
}

/// Where one field ends in [`Headers::text`]: its name is `previous value_end .. name_end`, its
/// value `name_end .. value_end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Field {
    name_end: u32,
    value_end: u32,
}

impl Headers {
    /// The fields httparse found, each name lower-cased: two allocations when every value is
    /// UTF-8 (none for no fields).
    pub(crate) fn from_httparse(parsed: &[httparse::Header<'_>]) -> Headers {
        let size = parsed.iter().map(|h| h.name.len() + h.value.len()).sum();
        let mut headers =
            Headers { text: String::with_capacity(size), fields: Vec::with_capacity(parsed.len()) };
        for header in parsed {
            headers.push(header.name, String::from_utf8_lossy(header.value));
        }
        headers
    }

    /// Fields from `(name, value)` pairs, each name lower-cased: for tests and hand-made heads.
    ///
    /// # Panics
    ///
    /// If the names and values come to 4 GiB or more (offsets are kept in `u32`).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Headers {
        let mut headers = Headers::default();
        for (name, value) in pairs {
            headers.push(name, Cow::Borrowed(value));
        }
        headers
    }

    /// Appends one field. From the parser a head over 4 GiB cannot reach here (its head limit is
    /// far below), so the offsets fit in `u32`; [`Headers::from_pairs`] given more panics.
    fn push(&mut self, name: &str, value: Cow<'_, str>) {
        let start = self.text.len();
        self.text.push_str(name);
        self.text[start..].make_ascii_lowercase();
        let name_end = u32::try_from(self.text.len()).expect("a response head under 4 GiB");
        self.text.push_str(&value);
        let value_end = u32::try_from(self.text.len()).expect("a response head under 4 GiB");
        self.fields.push(Field { name_end, value_end });
    }

    /// The value of the first field called `name`, compared without regard to ASCII case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, value)| value)
    }

    /// Every `(name, value)`, in order; names are lower-case.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0;
        self.fields.iter().map(move |field| {
            let (name_end, value_end) = (field.name_end as usize, field.value_end as usize);
            let pair = (&self.text[start..name_end], &self.text[name_end..value_end]);
            start = value_end;
            pair
        })
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
