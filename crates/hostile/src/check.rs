//! The promise, as one check: a read ends either with success and exactly
//! an acceptable set of ids in the vendor's order, or with an error after
//! ids none of which repeats.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::pin::pin;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};

/// What a successful read may deliver.
///
/// `order` is every id the listing held at any moment of the read, in the
/// vendor's order for the query; `required` the ids it held throughout.
/// A success must deliver every required id, nothing outside `order`, no id
/// twice, in `order`'s order. For a listing that never changed the two are
/// the same set, and the only acceptable success is exactly `order`; for one
/// that changed, both the snapshot before the change and the one after it
/// are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub order: Vec<String>,
    pub required: BTreeSet<String>,
}

impl Expectation {
    /// Exactly these ids, in this order.
    pub fn exactly(ids: Vec<String>) -> Self {
        let required = ids.iter().cloned().collect();
        Self { order: ids, required }
    }

    /// Checks a read: `Ok` when it kept the promise, else what went wrong.
    pub fn verdict(&self, delivered: &[String], failed: bool) -> Result<(), String> {
        let mut first_at: HashMap<&str, usize> = HashMap::new();
        for (i, id) in delivered.iter().enumerate() {
            if let Some(j) = first_at.insert(id.as_str(), i) {
                return Err(format!("id `{id}` was delivered twice (positions {j} and {i} of {})", delivered.len()));
            }
        }
        if failed {
            return Ok(());
        }
        let position: HashMap<&str, usize> = self.order.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        let mut last: Option<(usize, &str)> = None;
        for id in delivered {
            let Some(&p) = position.get(id.as_str()) else {
                return Err(format!("success delivered `{id}`, which the conversation never held"));
            };
            if let Some((q, previous)) = last
                && p <= q
            {
                return Err(format!("success delivered `{id}` after `{previous}`: not the vendor's order"));
            }
            last = Some((p, id));
        }
        let delivered_set: BTreeSet<&str> = delivered.iter().map(String::as_str).collect();
        let missing: Vec<&str> = self
            .order
            .iter()
            .map(String::as_str)
            .filter(|id| self.required.contains(*id) && !delivered_set.contains(id))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "success delivered {} ids but is missing {} that existed throughout the read, e.g. {:?}",
                delivered.len(),
                missing.len(),
                &missing[..missing.len().min(5)]
            ));
        }
        Ok(())
    }
}

/// An error as a person and a log would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorText {
    pub display: String,
    pub debug: String,
}

impl ErrorText {
    pub fn of<E: fmt::Display + fmt::Debug>(error: &E) -> Self {
        Self { display: error.to_string(), debug: format!("{error:?}") }
    }
}

/// How a read ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The ids delivered before the end (or the error).
    pub ids: Vec<String>,
    /// The error that ended the read, if one did.
    pub error: Option<ErrorText>,
    /// Whatever the stream yielded after its error (it must yield nothing).
    pub after_error: Vec<String>,
    /// The read did not end within its time limit.
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Every text of the error, for canary searches.
    pub fn error_texts(&self) -> String {
        self.error.as_ref().map(|e| format!("{}\n{}", e.display, e.debug)).unwrap_or_default()
    }
}

/// Drains `stream`, taking each item's id with `id`, until it ends or
/// `limit` has passed. After an error, the stream is polled on (within the
/// same limit) to see that it ends.
pub async fn read_all<S, T, E, F>(stream: S, id: F, limit: Duration) -> Outcome
where
    S: Stream<Item = Result<T, E>>,
    E: fmt::Display + fmt::Debug,
    F: Fn(&T) -> String,
{
    let started = Instant::now();
    let mut ids = Vec::new();
    let mut error = None;
    let mut after_error = Vec::new();
    let drained = tokio::time::timeout(limit, async {
        let mut stream = pin!(stream);
        while let Some(item) = stream.next().await {
            match (item, error.is_some()) {
                (Ok(item), false) => ids.push(id(&item)),
                (Ok(item), true) => after_error.push(id(&item)),
                (Err(e), false) => error = Some(ErrorText::of(&e)),
                (Err(e), true) => after_error.push(format!("<a second error: {e}>")),
            }
            if after_error.len() > 1000 {
                break;
            }
        }
    })
    .await;
    Outcome { ids, error, after_error, timed_out: drained.is_err(), elapsed: started.elapsed() }
}

/// Fails the test unless `outcome` kept the promise: ended in time, with
/// either success and an acceptable set (see [`Expectation`]), or an error
/// after ids none of which repeats, and nothing after the error.
#[track_caller]
pub fn assert_promise(what: &str, outcome: &Outcome, expectation: &Expectation) {
    let ended = match &outcome.error {
        Some(e) => format!("ended with the error: {}", e.display),
        None => "ended with success".to_owned(),
    };
    assert!(
        !outcome.timed_out,
        "{what}: the read did not end within {:?} ({} ids so far; {ended})",
        outcome.elapsed,
        outcome.ids.len()
    );
    assert!(outcome.after_error.is_empty(), "{what}: the stream went on after its error: {:?}", outcome.after_error);
    if let Err(problem) = expectation.verdict(&outcome.ids, outcome.failed()) {
        panic!(
            "{what}: broke the promise: {problem}; the read {ended}; {} of {} ids delivered",
            outcome.ids.len(),
            expectation.order.len()
        );
    }
}

/// The one path segment of the raw (still percent-encoded) `path` between
/// `prefix` and `suffix`, decoded; an error says how the path escaped.
pub fn one_segment(path: &str, prefix: &str, suffix: &str) -> Result<String, String> {
    let inner = path
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .ok_or_else(|| format!("the request path `{path}` is not `{prefix}<one segment>{suffix}`"))?;
    if inner.is_empty() {
        return Err(format!("the request path `{path}` has an empty segment"));
    }
    if let Some(c) = inner.chars().find(|c| matches!(c, '/' | '\\' | '?' | '#')) {
        return Err(format!("the segment `{inner}` of `{path}` holds a raw `{c}`"));
    }
    if inner == "." || inner == ".." || inner.eq_ignore_ascii_case("%2e") || inner.eq_ignore_ascii_case("%2e%2e") {
        return Err(format!("the segment `{inner}` of `{path}` is a dot-segment"));
    }
    percent_encoding::percent_decode_str(inner)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|e| format!("the segment `{inner}` of `{path}` is not UTF-8 once decoded: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn an_unchanged_listing_accepts_exactly_itself() {
        let e = Expectation::exactly(ids(&["a", "b", "c"]));
        assert!(e.verdict(&ids(&["a", "b", "c"]), false).is_ok());
        assert!(e.verdict(&ids(&["a", "c"]), false).unwrap_err().contains("missing 1"));
        assert!(e.verdict(&ids(&["a", "c", "b"]), false).unwrap_err().contains("order"));
        assert!(e.verdict(&ids(&["a", "b", "b", "c"]), false).unwrap_err().contains("twice"));
        assert!(e.verdict(&ids(&["a", "b", "c", "x"]), false).unwrap_err().contains("never held"));
        // An error after a prefix is fine; after a repeat it is not.
        assert!(e.verdict(&ids(&["a"]), true).is_ok());
        assert!(e.verdict(&ids(&["a", "a"]), true).is_err());
    }

    #[test]
    fn a_changed_listing_accepts_either_snapshot() {
        // "n" arrived at the head during the read; "a" was there throughout.
        let e = Expectation {
            order: ids(&["n", "a", "b"]),
            required: ["a", "b"].iter().map(|s| (*s).to_owned()).collect(),
        };
        assert!(e.verdict(&ids(&["a", "b"]), false).is_ok());
        assert!(e.verdict(&ids(&["n", "a", "b"]), false).is_ok());
        assert!(e.verdict(&ids(&["n", "b"]), false).is_err());
    }

    #[test]
    fn segments_must_stay_one_and_decode_to_the_id() {
        assert_eq!(one_segment("/c/a%2Fb%3Fc%23d/m", "/c/", "/m").unwrap(), "a/b?c#d");
        assert_eq!(one_segment("/c/..%5C..%5Cadmin/m", "/c/", "/m").unwrap(), "..\\..\\admin");
        assert!(one_segment("/c/../../admin/m", "/c/", "/m").is_err());
        assert!(one_segment("/c/..\\..\\admin/m", "/c/", "/m").is_err());
        assert!(one_segment("/admin/m", "/c/", "/m").is_err());
    }
}
