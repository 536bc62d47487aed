//! Contract checks: each generated client against a Prism mock server of its
//! own spec (`prism mock specs/<vendor>.yaml --errors`), a validator we did
//! not write.
//!
//! For every documented parameter set, the generated client's request must
//! pass Prism's request validation (no `sl-violations` header, no problem
//! body with a `validation` list, the documented status), and the response
//! Prism serves from the spec's example must decode and equal the spec's
//! example decoded directly. Deliberately wrong raw requests must be flagged,
//! which shows the check can fail.
//!
//! Run by `cargo xtask contract`, which installs and starts Prism; by hand:
//! `cargo run -p convo-contract -- <vendor> <prism-url>`.

use std::fmt::Debug;

use progenitor_client::{Error, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub mod bird;
pub mod infobip;
pub mod leadconnector;
pub mod octopush;

/// The vendors, by the name of their spec.
pub const VENDORS: [&str; 4] = ["bird", "infobip", "leadconnector", "octopush"];

/// What Prism said was wrong with a request, if anything: the
/// `sl-violations` header, or a problem body (`application/problem+json`)
/// that Prism generates when the spec has no response for invalid requests.
pub fn violations(headers: &HeaderMap, body: Option<&[u8]>) -> Option<String> {
    if let Some(header) = headers.get("sl-violations") {
        return Some(String::from_utf8_lossy(header.as_bytes()).into_owned());
    }
    let problem_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    let body: Option<Value> = body.and_then(|b| serde_json::from_slice(b).ok());
    let prism_problem = body.as_ref().is_some_and(|b| {
        b.get("validation").is_some_and(Value::is_array)
            || b.get("type").and_then(Value::as_str).is_some_and(|t| t.contains("stoplight.io/prism/errors"))
    });
    if problem_type || prism_problem {
        return Some(body.map_or_else(|| "a problem body".to_owned(), |b| b.to_string()));
    }
    None
}

/// The example of response `status` in `specs/<vendor>.yaml`, decoded as `T`.
pub fn example<T: DeserializeOwned>(vendor: &str, status: &str) -> T {
    let bytes = convo_testkit::sample(&format!("{vendor}.yaml"), status);
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("specs/{vendor}.yaml: the {status} example does not decode: {e}"))
}

/// The parsed spec, as JSON.
pub fn spec(vendor: &str) -> Value {
    serde_json::to_value(convo_testkit::spec(&format!("{vendor}.yaml"))).expect("a YAML spec is JSON")
}

/// The operation of a one-operation spec (`paths.<path>.get`).
pub fn operation(spec: &Value) -> &Value {
    spec["paths"].as_object().and_then(|p| p.values().next()).map(|item| &item["get"]).expect("one path with a get")
}

/// The `example` of parameter `name` of the spec's operation.
pub fn parameter_example(spec: &Value, name: &str) -> String {
    let parameters = operation(spec)["parameters"].as_array().expect("parameters");
    let parameter = parameters.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no parameter {name}"));
    match &parameter["example"] {
        Value::String(s) => s.clone(),
        Value::Null => panic!("parameter {name} has no example"),
        other => other.to_string(),
    }
}

/// The values of `components.schemas.<name>.enum`.
pub fn enum_values(spec: &Value, name: &str) -> Vec<String> {
    spec["components"]["schemas"][name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("components.schemas.{name} has no enum"))
        .iter()
        .map(|v| v.as_str().expect("a string value").to_owned())
        .collect()
}

/// The explicit error statuses the spec's operation documents (`"404"`, not
/// ranges such as `"5XX"`), with whether each has an example.
pub fn error_statuses(spec: &Value) -> Vec<(u16, bool)> {
    operation(spec)["responses"]
        .as_object()
        .expect("responses")
        .iter()
        .filter_map(|(status, response)| {
            let code: u16 = status.parse().ok()?;
            let has_example = response.pointer("/content/application~1json/example").is_some();
            (code >= 400).then_some((code, has_example))
        })
        .collect()
}

/// The outcome of one vendor's contract run.
#[derive(Debug)]
pub struct Contract {
    /// Prism's base URL (`http://127.0.0.1:4010`).
    pub base: String,
    /// A plain HTTP client for the deliberately wrong requests.
    pub raw: reqwest::Client,
    passed: usize,
    failures: Vec<String>,
}

impl Contract {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            raw: reqwest::Client::new(),
            passed: 0,
            failures: Vec::new(),
        }
    }

    /// Records the outcome of one case.
    pub fn record(&mut self, case: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.passed += 1;
                println!("ok    {case}");
            }
            Err(reason) => {
                println!("FAIL  {case}: {reason}");
                self.failures.push(format!("{case}: {reason}"));
            }
        }
    }

    /// A generated client's call that must pass Prism's validation and give
    /// back the spec's 200 example.
    pub fn ok<T, E>(&mut self, case: &str, result: Result<ResponseValue<T>, Error<E>>, expected: &T)
    where
        T: Debug + Serialize,
        E: Debug,
    {
        let outcome = match result {
            Ok(response) => match violations(response.headers(), None) {
                Some(v) => Err(format!("Prism flagged the request: {v}")),
                None if response.status() != StatusCode::OK => Err(format!("HTTP {}, expected 200", response.status())),
                None => same(&*response, expected),
            },
            Err(e) => Err(describe(&e)),
        };
        self.record(case, outcome);
    }

    /// A generated client's call that must pass Prism's validation and end
    /// in the documented error `status`, whose body decodes into the
    /// vendor's error type (and equals `expected` when the spec has an
    /// example for it).
    pub fn error<T, E>(
        &mut self,
        case: &str,
        result: Result<ResponseValue<T>, Error<E>>,
        status: u16,
        expected: Option<&E>,
    ) where
        T: Debug,
        E: Debug + Serialize,
    {
        let outcome = match result {
            Ok(response) => Err(format!("HTTP {} with a success body, expected {status}", response.status())),
            Err(Error::ErrorResponse(response)) => match violations(response.headers(), None) {
                Some(v) => Err(format!("Prism flagged the request: {v}")),
                None if response.status().as_u16() != status => {
                    Err(format!("HTTP {}, expected {status}", response.status()))
                }
                None => expected.map_or(Ok(()), |expected| same(&*response, expected)),
            },
            Err(e) => Err(format!("expected a typed {status} error body: {}", describe(&e))),
        };
        self.record(case, outcome);
    }

    /// A raw request that Prism must flag as violating the spec, with a
    /// violation that mentions `mentions` (the parameter's name).
    pub async fn rejected(&mut self, case: &str, request: reqwest::RequestBuilder, mentions: &str) {
        let outcome = match send_raw(request).await {
            Err(e) => Err(e),
            Ok((status, headers, body)) => match violations(&headers, Some(&body)) {
                None => Err(format!("Prism did not flag it: HTTP {status}, body {}", String::from_utf8_lossy(&body))),
                Some(v) if !v.to_lowercase().contains(&mentions.to_lowercase()) => {
                    Err(format!("Prism flagged something else than `{mentions}`: {v}"))
                }
                Some(_) if status.is_success() => Err(format!("flagged, but answered HTTP {status}")),
                Some(_) => Ok(()),
            },
        };
        self.record(&format!("{case} is flagged"), outcome);
    }

    /// The raw request next to a rejected one, with a valid value: it must
    /// pass, so that the rejection is due to the value alone.
    pub async fn accepted(&mut self, case: &str, request: reqwest::RequestBuilder) {
        let outcome = match send_raw(request).await {
            Err(e) => Err(e),
            Ok((status, headers, body)) => match violations(&headers, Some(&body)) {
                Some(v) => Err(format!("Prism flagged the request: {v}")),
                None if status != StatusCode::OK => Err(format!("HTTP {status}, expected 200")),
                None => Ok(()),
            },
        };
        self.record(&format!("{case} passes"), outcome);
    }

    /// Prints the summary; `Err` when any case failed.
    pub fn finish(self, vendor: &str) -> Result<usize, Vec<String>> {
        println!("contract {vendor}: {} cases passed, {} failed", self.passed, self.failures.len());
        if self.failures.is_empty() { Ok(self.passed) } else { Err(self.failures) }
    }
}

async fn send_raw(request: reqwest::RequestBuilder) -> Result<(StatusCode, HeaderMap, Vec<u8>), String> {
    let response = request.send().await.map_err(|e| format!("cannot reach Prism: {e}"))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| format!("cannot read Prism's answer: {e}"))?;
    Ok((status, headers, body.to_vec()))
}

/// Why a generated client's call failed, with Prism's violations.
pub fn describe<E: Debug>(error: &Error<E>) -> String {
    match error {
        Error::ErrorResponse(response) => format!(
            "HTTP {}; violations: {}; body {:?}",
            response.status(),
            violations(response.headers(), None).unwrap_or_else(|| "none reported".to_owned()),
            &**response
        ),
        Error::UnexpectedResponse(response) => format!(
            "undocumented HTTP {}; violations: {}",
            response.status(),
            violations(response.headers(), None).unwrap_or_else(|| "none reported".to_owned())
        ),
        other => format!("{other}"),
    }
}

/// Equal as typed values (their `Debug`) and as JSON (their `Serialize`,
/// which writes captured messages as the exact JSON that was served).
pub fn same<T: Debug + Serialize>(got: &T, expected: &T) -> Result<(), String> {
    let (got_debug, expected_debug) = (format!("{got:#?}"), format!("{expected:#?}"));
    if got_debug != expected_debug {
        return Err(format!(
            "decoded value differs from the spec's example: {}",
            first_difference(&got_debug, &expected_debug)
        ));
    }
    let got_json = serde_json::to_value(got).map_err(|e| e.to_string())?;
    let expected_json = serde_json::to_value(expected).map_err(|e| e.to_string())?;
    if got_json != expected_json {
        return Err(format!("served JSON differs from the spec's example: got {got_json}, expected {expected_json}"));
    }
    Ok(())
}

fn first_difference(got: &str, expected: &str) -> String {
    for (i, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
        if g != e {
            return format!("line {}: got `{}`, expected `{}`", i + 1, g.trim(), e.trim());
        }
    }
    format!("{} lines against {}", got.lines().count(), expected.lines().count())
}

/// Runs the contract of `vendor` against Prism at `base`.
pub async fn run(vendor: &str, base: &str) -> Result<usize, Vec<String>> {
    let mut contract = Contract::new(base);
    match vendor {
        "bird" => bird::run(&mut contract).await,
        "infobip" => infobip::run(&mut contract).await,
        "leadconnector" => leadconnector::run(&mut contract).await,
        "octopush" => octopush::run(&mut contract).await,
        other => return Err(vec![format!("unknown vendor `{other}`; expected one of {VENDORS:?}")]),
    }
    contract.finish(vendor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (reqwest::header::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn the_violations_header_and_prisms_problem_bodies_are_both_seen() {
        let flagged = headers(&[("sl-violations", r#"[{"location":["request","query","channel"]}]"#)]);
        assert!(violations(&flagged, None).unwrap().contains("channel"));
        let problem = br#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","status":422,"validation":[{"location":["query","limit"]}]}"#;
        assert!(
            violations(&headers(&[("content-type", "application/json")]), Some(problem)).unwrap().contains("limit")
        );
        assert!(violations(&headers(&[("content-type", "application/problem+json")]), Some(b"{}")).is_some());
        let documented_422 = br#"{"statusCode":422,"message":["Unprocessable Entity"]}"#;
        assert_eq!(violations(&headers(&[("content-type", "application/json")]), Some(documented_422)), None);
    }

    #[test]
    fn a_served_body_that_differs_from_the_example_is_reported() {
        #[derive(Debug, Serialize)]
        struct Page {
            ids: Vec<&'static str>,
        }
        assert!(same(&Page { ids: vec!["a"] }, &Page { ids: vec!["a"] }).is_ok());
        let err = same(&Page { ids: vec!["a"] }, &Page { ids: vec!["b"] }).unwrap_err();
        assert!(err.contains(r#"got `"a",`, expected `"b",`"#), "{err}");
    }

    #[test]
    fn the_specs_give_what_the_cases_are_built_from() {
        let infobip = spec("infobip");
        assert_eq!(enum_values(&infobip, "DirectionFilter"), ["INBOUND", "OUTBOUND"]);
        assert_eq!(parameter_example(&infobip, "createdAfter"), "2024-01-01T00:00:00.000+0000");
        assert!(error_statuses(&spec("leadconnector")).contains(&(422, true)));
    }
}
