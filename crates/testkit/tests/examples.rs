//! Every example in every spec, and every fixture page, validated against
//! its schema by a JSON Schema validator we did not write (the `jsonschema`
//! crate).
//!
//! The specs are OpenAPI 3.0, whose schema objects are not quite JSON
//! Schema, so each schema is converted first: `#/components/schemas/<X>`
//! references become `#/$defs/<X>` with every component embedded under
//! `$defs`; `nullable: true` allows `null`; a `$ref`'s siblings are dropped
//! (OpenAPI 3.0 ignores them); draft-4 boolean `exclusiveMinimum` /
//! `exclusiveMaximum` become numbers; `x-` keys and the OpenAPI-only
//! annotations (`example`, `discriminator`, `xml`, `externalDocs`) are
//! dropped. The result is validated as JSON Schema 2020-12 with format
//! assertions on (`date-time` is RFC 3339, as OpenAPI 3.0 defines it).
//!
//! What is checked, for every `specs/<vendor>.yaml`:
//! - every `example` / `examples` of every response of every status (and of
//!   its headers), of every parameter, and of every schema (components and
//!   inline), against the schema it belongs to;
//! - every `tests/fixtures/<vendor>/*.json` against the operation's `200`
//!   response schema.
//!
//! Every failure names the file, the place in it, the JSON path inside the
//! example and the validator's reason; all failures are listed before the
//! test fails.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// One thing that did not validate (or could not be checked).
#[derive(Debug, Clone, PartialEq)]
struct Failure {
    /// The spec or fixture file, relative to the workspace root.
    file: String,
    /// Where in the file: `paths./x.get.responses.200.content.application/json.example`.
    location: String,
    /// The JSON pointer inside the example or fixture (`/messages/0/id`).
    path: String,
    reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() { "/" } else { self.path.as_str() };
        write!(f, "{}: {}: at `{}`: {}", self.file, self.location, path, self.reason)
    }
}

/// What one spec (and its fixtures) gave.
#[derive(Debug, Default)]
struct Report {
    /// How many examples and fixtures were validated.
    checked: usize,
    failures: Vec<Failure>,
}

// ---------------------------------------------------------------------------
// OpenAPI 3.0 schema -> JSON Schema 2020-12

const SCHEMA_REF: &str = "#/components/schemas/";

/// Converts one OpenAPI 3.0 schema object. `problems` collects what cannot be
/// converted (a reference outside `components/schemas`), so that nothing is
/// silently accepted.
fn convert(schema: &Value, problems: &mut Vec<String>) -> Value {
    let Value::Object(object) = schema else {
        // `additionalProperties: true` and the like.
        return schema.clone();
    };
    if let Some(reference) = object.get("$ref") {
        return match reference.as_str().and_then(|r| r.strip_prefix(SCHEMA_REF)) {
            Some(name) => json!({ "$ref": format!("#/$defs/{}", pointer_escape(name)) }),
            None => {
                problems.push(format!("unsupported reference {reference}"));
                json!({ "$ref": "#/$defs/__unsupported_reference__" })
            }
        };
    }
    let mut out = Map::new();
    for (key, value) in object {
        if key.starts_with("x-") {
            continue;
        }
        let converted = match key.as_str() {
            "nullable" | "example" | "discriminator" | "xml" | "externalDocs" => continue,
            "properties" => Value::Object(
                value
                    .as_object()
                    .map(|props| props.iter().map(|(k, v)| (k.clone(), convert(v, problems))).collect())
                    .unwrap_or_default(),
            ),
            "items" | "not" | "additionalProperties" => convert(value, problems),
            "allOf" | "oneOf" | "anyOf" => Value::Array(
                value.as_array().map(|all| all.iter().map(|v| convert(v, problems)).collect()).unwrap_or_default(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    // Draft 4 style exclusive bounds (OpenAPI 3.0) to the numeric form.
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(Value::Bool(flag)) = out.get(exclusive).cloned() {
            out.remove(exclusive);
            if flag && let Some(limit) = out.remove(bound) {
                out.insert(exclusive.to_owned(), limit);
            }
        }
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        return match out.get("type") {
            Some(Value::String(t)) if !out.contains_key("enum") => {
                let t = t.clone();
                out.insert("type".to_owned(), json!([t, "null"]));
                Value::Object(out)
            }
            _ => json!({ "anyOf": [Value::Object(out), { "type": "null" }] }),
        };
    }
    Value::Object(out)
}

fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The JSON Schema document for `schema` of `spec`: the converted schema,
/// with every component schema of the spec under `$defs`.
fn json_schema(spec: &Value, schema: &Value, problems: &mut Vec<String>) -> Value {
    let mut defs = Map::new();
    if let Some(components) = spec.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, component) in components {
            defs.insert(name.clone(), convert(component, problems));
        }
    }
    let mut root = match convert(schema, problems) {
        Value::Object(map) => map,
        other => {
            // A boolean schema: keep it as the only rule.
            let mut map = Map::new();
            map.insert("allOf".to_owned(), json!([other]));
            map
        }
    };
    root.insert("$schema".to_owned(), json!("https://json-schema.org/draft/2020-12/schema"));
    root.insert("$defs".to_owned(), Value::Object(defs));
    Value::Object(root)
}

/// Validates `instance` against `schema` (an OpenAPI 3.0 schema of `spec`)
/// and returns `(json path, reason)` for every error; the branches of a
/// failed `oneOf` / `anyOf` are listed one by one.
fn validate(spec: &Value, schema: &Value, instance: &Value) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let document = json_schema(spec, schema, &mut problems);
    let mut errors: Vec<(String, String)> =
        problems.into_iter().map(|p| (String::new(), format!("cannot convert the schema: {p}"))).collect();
    let validator = match jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&document)
    {
        Ok(validator) => validator,
        Err(e) => {
            errors.push((String::new(), format!("the converted schema is invalid: {e}")));
            return errors;
        }
    };
    for error in validator.iter_errors(instance) {
        flatten(&error, "", &mut errors);
    }
    errors
}

fn flatten(error: &jsonschema::ValidationError<'_>, prefix: &str, out: &mut Vec<(String, String)>) {
    use jsonschema::error::ValidationErrorKind;
    let path = error.instance_path.to_string();
    let (keyword, context) = match &error.kind {
        ValidationErrorKind::OneOfNotValid { context } => ("oneOf", Some(context)),
        ValidationErrorKind::AnyOf { context } => ("anyOf", Some(context)),
        _ => ("", None),
    };
    match context {
        Some(branches) if !branches.is_empty() => {
            out.push((path, format!("{prefix}matches none of the `{keyword}` branches:")));
            for (i, branch) in branches.iter().enumerate() {
                for inner in branch {
                    flatten(inner, &format!("{prefix}  [{keyword} branch {i}] "), out);
                }
            }
        }
        _ => out.push((path, format!("{prefix}{}", shorten(&error.to_string())))),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

// ---------------------------------------------------------------------------
// Collecting the examples of a spec

struct Checker<'a> {
    file: String,
    spec: &'a Value,
    report: Report,
}

impl Checker<'_> {
    fn fail(&mut self, location: &str, path: &str, reason: impl Into<String>) {
        self.report.failures.push(Failure {
            file: self.file.clone(),
            location: location.to_owned(),
            path: path.to_owned(),
            reason: reason.into(),
        });
    }

    fn check(&mut self, location: &str, schema: &Value, instance: &Value) {
        self.report.checked += 1;
        for (path, reason) in validate(self.spec, schema, instance) {
            self.fail(location, &path, reason);
        }
    }

    /// The `example` and `examples` of a parameter, header or media type
    /// object, against `schema`.
    fn check_examples_of(&mut self, location: &str, holder: &Value, schema: Option<&Value>) {
        let mut found = Vec::new();
        if let Some(example) = holder.get("example") {
            found.push((format!("{location}.example"), example.clone()));
        }
        if let Some(examples) = holder.get("examples").and_then(Value::as_object) {
            for (name, example) in examples {
                let example = self.follow(&format!("{location}.examples.{name}"), example);
                match example.as_ref().and_then(|e| e.get("value")) {
                    Some(value) => found.push((format!("{location}.examples.{name}.value"), value.clone())),
                    None => self.fail(
                        &format!("{location}.examples.{name}"),
                        "",
                        "an example without an inline `value` cannot be checked",
                    ),
                }
            }
        }
        for (at, example) in found {
            match schema {
                Some(schema) => self.check(&at, schema, &example),
                None => self.fail(&at, "", "an example without a schema to check it against"),
            }
        }
    }

    /// Follows a local `$ref` (`#/components/...`) to the object it names.
    fn follow(&mut self, location: &str, value: &Value) -> Option<Value> {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Some(value.clone());
        };
        match reference.strip_prefix('#').and_then(|pointer| self.spec.pointer(pointer)) {
            Some(target) => Some(target.clone()),
            None => {
                self.fail(location, "", format!("unresolvable reference `{reference}`"));
                None
            }
        }
    }

    /// Every `example` inside a schema (and the schemas nested in it).
    fn check_schema_examples(&mut self, location: &str, schema: &Value) {
        let Some(object) = schema.as_object() else { return };
        if object.contains_key("$ref") {
            return;
        }
        if let Some(example) = object.get("example") {
            self.check(&format!("{location}.example"), schema, example);
        }
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                self.check_schema_examples(&format!("{location}.properties.{name}"), property);
            }
        }
        for key in ["items", "not", "additionalProperties"] {
            if let Some(inner) = object.get(key) {
                self.check_schema_examples(&format!("{location}.{key}"), inner);
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(all) = object.get(key).and_then(Value::as_array) {
                for (i, inner) in all.iter().enumerate() {
                    self.check_schema_examples(&format!("{location}.{key}[{i}]"), inner);
                }
            }
        }
    }

    fn check_parameter(&mut self, location: &str, parameter: &Value) {
        let Some(parameter) = self.follow(location, parameter) else { return };
        let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?").to_owned();
        let location = format!("{location}({name})");
        let schema = parameter.get("schema").cloned();
        self.check_examples_of(&location, &parameter, schema.as_ref());
        if let Some(schema) = &schema {
            self.check_schema_examples(&format!("{location}.schema"), schema);
        }
    }

    fn check_spec(&mut self) {
        let spec = self.spec;
        if let Some(schemas) = spec.pointer("/components/schemas").and_then(Value::as_object) {
            for (name, schema) in schemas {
                self.check_schema_examples(&format!("components.schemas.{name}"), schema);
            }
        }
        if let Some(headers) = spec.pointer("/components/headers").and_then(Value::as_object) {
            for (name, header) in headers {
                let location = format!("components.headers.{name}");
                let schema = header.get("schema").cloned();
                self.check_examples_of(&location, header, schema.as_ref());
            }
        }
        let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
            self.fail("paths", "", "the spec has no paths");
            return;
        };
        for (path, item) in paths {
            let shared: Vec<Value> = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            for (i, parameter) in shared.iter().enumerate() {
                self.check_parameter(&format!("paths.{path}.parameters[{i}]"), parameter);
            }
            for method in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
                let Some(operation) = item.get(method) else { continue };
                let at = format!("paths.{path}.{method}");
                for (i, parameter) in
                    operation.get("parameters").and_then(Value::as_array).into_iter().flatten().enumerate()
                {
                    self.check_parameter(&format!("{at}.parameters[{i}]"), parameter);
                }
                for (status, response) in operation.get("responses").and_then(Value::as_object).into_iter().flatten() {
                    let location = format!("{at}.responses.{status}");
                    let Some(response) = self.follow(&location, response) else { continue };
                    for (name, header) in response.get("headers").and_then(Value::as_object).into_iter().flatten() {
                        let location = format!("{location}.headers.{name}");
                        if let Some(header) = self.follow(&location, header) {
                            let schema = header.get("schema").cloned();
                            self.check_examples_of(&location, &header, schema.as_ref());
                        }
                    }
                    for (media, content) in response.get("content").and_then(Value::as_object).into_iter().flatten() {
                        let location = format!("{location}.content.{media}");
                        let schema = content.get("schema").cloned();
                        self.check_examples_of(&location, content, schema.as_ref());
                        if let Some(schema) = &schema {
                            self.check_schema_examples(&format!("{location}.schema"), schema);
                        }
                    }
                }
            }
        }
    }

    /// The schema of the `200` `application/json` response of the spec's
    /// operations (one per spec here; every one of them is returned).
    fn ok_schemas(&self) -> Vec<(String, Value)> {
        let mut found = Vec::new();
        for (path, item) in self.spec.get("paths").and_then(Value::as_object).into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                if let Some(schema) = operation.pointer("/responses/200/content/application~1json/schema") {
                    found.push((format!("paths.{path}.{method}.responses.200"), schema.clone()));
                }
            }
        }
        found
    }

    fn check_fixture(&mut self, fixture: &str, body: &Value) {
        let schemas = self.ok_schemas();
        if schemas.is_empty() {
            self.report.failures.push(Failure {
                file: fixture.to_owned(),
                location: self.file.clone(),
                path: String::new(),
                reason: "the spec has no 200 application/json response schema to check fixtures against".to_owned(),
            });
        }
        for (location, schema) in schemas {
            self.report.checked += 1;
            for (path, reason) in validate(self.spec, &schema, body) {
                self.report.failures.push(Failure {
                    file: fixture.to_owned(),
                    location: format!("against {} {location}", self.file),
                    path,
                    reason,
                });
            }
        }
    }
}

/// Checks one spec's examples and the given fixtures (`(file, body)`).
fn check_spec(file: &str, spec: &Value, fixtures: &[(String, Value)]) -> Report {
    let mut checker = Checker { file: file.to_owned(), spec, report: Report::default() };
    checker.check_spec();
    for (fixture, body) in fixtures {
        checker.check_fixture(fixture, body);
    }
    checker.report
}

// ---------------------------------------------------------------------------
// The workspace's specs and fixtures

fn root() -> PathBuf {
    convo_testkit::root()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

fn specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("specs"))
        .expect("specs/")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    specs
}

/// The fixture pages of `vendor`, parsed. A file that is not JSON panics,
/// naming it.
fn fixtures(vendor: &str) -> Vec<(String, Value)> {
    let dir = root().join("tests").join("fixtures").join(vendor);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", relative(&path)));
            (relative(&path), body)
        })
        .collect()
}

fn spec_json(path: &Path) -> Value {
    let name = path.file_name().expect("a file").to_string_lossy().into_owned();
    serde_json::to_value(convo_testkit::spec(&name)).expect("a YAML spec is JSON")
}

/// A failure that is known and explained: the test lists it instead of
/// failing on it, and fails if it no longer happens (so the list stays
/// exact). Anything not listed fails the test.
struct Known {
    file: &'static str,
    /// A prefix of the failure's location.
    location: &'static str,
    /// The JSON path, `*` standing for any one segment.
    path: &'static str,
    /// A part of the validator's reason.
    reason: &'static str,
    why: &'static str,
}

const INFOBIP_DATE_TIME: &str = "Infobip's `+hhmm` offset (its documented wire form, and what the live API sends) is not RFC 3339, \
     which `format: date-time` means; the schema contradicts its own description. Proposed fix: a named schema \
     without `format: date-time`, replaced by `crate::Timestamp` in crates/infobip/codegen.rs (SECURITY.md, known gaps).";
const DRIFT: &str = "a fixture that deliberately goes beyond the spec, to show that the client tolerates it";

const KNOWN: &[Known] = &[
    Known {
        file: "specs/infobip.yaml",
        location: "paths./ccaas/1/conversations/{conversationId}/messages.get.parameters[4](createdAfter)",
        path: "",
        reason: "is not a \"date-time\"",
        why: INFOBIP_DATE_TIME,
    },
    Known {
        file: "specs/infobip.yaml",
        location: "paths./ccaas/1/conversations/{conversationId}/messages.get.parameters[5](createdBefore)",
        path: "",
        reason: "is not a \"date-time\"",
        why: INFOBIP_DATE_TIME,
    },
    Known {
        file: "tests/fixtures/infobip/timestamp-drift.json",
        location: "against",
        path: "/messages/*/createdAt",
        reason: "is not a \"date-time\"",
        why: INFOBIP_DATE_TIME,
    },
    Known {
        file: "tests/fixtures/infobip/timestamp-drift.json",
        location: "against",
        path: "/messages/*/updatedAt",
        reason: "is not a \"date-time\"",
        why: INFOBIP_DATE_TIME,
    },
    Known {
        file: "tests/fixtures/infobip/unknown-values-and-fields.json",
        location: "against",
        path: "/messages/*/createdAt",
        reason: "is not a \"date-time\"",
        why: INFOBIP_DATE_TIME,
    },
    Known {
        file: "tests/fixtures/infobip/unknown-values-and-fields.json",
        location: "against",
        path: "/messages/2/content/text",
        reason: "is not of type \"string\"",
        why: DRIFT,
    },
    Known {
        file: "tests/fixtures/octopush/nulls-everywhere.json",
        location: "against",
        path: "/*/*",
        reason: "null is not of type",
        why: DRIFT,
    },
];

fn path_matches(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len() && pattern.iter().zip(&path).all(|(p, s)| *p == "*" || p == s)
}

impl Known {
    fn matches(&self, failure: &Failure) -> bool {
        failure.file == self.file
            && failure.location.starts_with(self.location)
            && path_matches(self.path, &failure.path)
            && failure.reason.contains(self.reason)
    }
}

#[test]
fn known_deviations_match_only_what_they_describe() {
    let failure = |file: &str, path: &str, reason: &str| Failure {
        file: file.into(),
        location: "against x".into(),
        path: path.into(),
        reason: reason.into(),
    };
    let nulls = &KNOWN[6];
    assert!(nulls.matches(&failure(
        "tests/fixtures/octopush/nulls-everywhere.json",
        "/1/text",
        "null is not of type \"string\""
    )));
    assert!(!nulls.matches(&failure(
        "tests/fixtures/octopush/nulls-everywhere.json",
        "/1",
        "null is not of type \"object\""
    )));
    assert!(!nulls.matches(&failure(
        "tests/fixtures/octopush/other.json",
        "/1/text",
        "null is not of type \"string\""
    )));
    assert!(!nulls.matches(&failure(
        "tests/fixtures/octopush/nulls-everywhere.json",
        "/1/text",
        "\"x\" is not a \"date-time\""
    )));
}

#[test]
fn every_spec_example_and_fixture_validates_against_its_schema() {
    let specs = specs();
    assert_eq!(specs.len(), 4, "expected the four vendor specs, found {specs:?}");
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for path in &specs {
        let vendor = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        let spec = spec_json(path);
        let fixtures = fixtures(&vendor);
        assert!(!fixtures.is_empty(), "tests/fixtures/{vendor}/ has no fixture pages");
        let report = check_spec(&relative(path), &spec, &fixtures);
        // A spec with no checked example means the walk is broken: every
        // spec has at least its 200 sample, and each fixture counts once.
        assert!(report.checked > fixtures.len(), "{}: only {} documents checked", relative(path), report.checked);
        summary.push(format!("{}: {} examples and fixtures checked", relative(path), report.checked));
        failures.extend(report.failures);
    }
    eprintln!("{}", summary.join("\n"));
    let (known, unexplained): (Vec<Failure>, Vec<Failure>) =
        failures.into_iter().partition(|f| KNOWN.iter().any(|k| k.matches(f)));
    for f in &known {
        eprintln!("known: {f}");
    }
    let stale: Vec<String> = KNOWN
        .iter()
        .filter(|k| !known.iter().any(|f| k.matches(f)))
        .map(|k| format!("  {} {} {} ({})", k.file, k.location, k.path, k.why))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} example(s) or fixture(s) do not match their schema:\n{}",
        unexplained.len(),
        unexplained.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
    );
    assert!(stale.is_empty(), "known deviations that no longer happen; remove them from KNOWN:\n{}", stale.join("\n"));
}

// ---------------------------------------------------------------------------
// The checker itself can fail.

fn infobip() -> Value {
    spec_json(&root().join("specs").join("infobip.yaml"))
}

fn ok_schema(spec: &Value) -> Value {
    spec.pointer("/paths").and_then(Value::as_object).and_then(|p| p.values().next()).expect("a path")["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]
        .clone()
}

#[test]
fn a_wrong_page_is_rejected_with_the_path_and_reason() {
    let spec = infobip();
    let wrong = json!({"messages": [{"id": 5, "createdAt": "2024-01-01T00:00:00Z"}, {"id": "b"}], "pagination": {"page": "zero"}});
    let errors = validate(&spec, &ok_schema(&spec), &wrong);
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"/messages/0/id"), "{errors:?}");
    assert!(paths.contains(&"/messages/1"), "missing createdAt: {errors:?}");
    assert!(paths.contains(&"/pagination/page"), "{errors:?}");
    let (_, reason) = errors.iter().find(|(p, _)| p == "/messages/0/id").unwrap();
    assert!(reason.contains("string"), "{reason}");
}

#[test]
fn a_fixture_that_breaks_the_spec_is_reported_with_file_and_path() {
    let spec = infobip();
    let fixtures = vec![("tests/fixtures/infobip/broken.json".to_owned(), json!({"messages": "none"}))];
    let report = check_spec("specs/infobip.yaml", &spec, &fixtures);
    let failure = report
        .failures
        .iter()
        .find(|f| f.file == "tests/fixtures/infobip/broken.json")
        .expect("the broken fixture fails");
    assert_eq!(failure.path, "/messages");
    let text = failure.to_string();
    assert!(text.starts_with("tests/fixtures/infobip/broken.json: against specs/infobip.yaml paths."), "{text}");
    assert!(text.contains("at `/messages`") && text.contains("array"), "{text}");
}

#[test]
fn a_wrong_example_anywhere_in_a_spec_is_reported() {
    let spec = json!({
        "openapi": "3.0.3",
        "paths": {"/m": {"get": {
            "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 10}, "example": 11},
                {"name": "at", "in": "query", "schema": {"type": "string", "format": "date-time"}, "example": "2024-01-01T00:00:00.000+0000"}
            ],
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Page"},
                    "examples": {"one": {"value": {"items": [{"n": null}]}}}
                }}},
                "404": {"description": "no", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Missing"},
                    "example": {}
                }}}
            }
        }}},
        "components": {"schemas": {
            "Page": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
            "Item": {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string", "example": 3}}}
        }}
    });
    let report = check_spec("specs/test.yaml", &spec, &[]);
    let got: Vec<(String, String)> = report.failures.iter().map(|f| (f.location.clone(), f.path.clone())).collect();
    for (location, path) in [
        ("paths./m.get.parameters[0](limit).example", ""),
        ("paths./m.get.parameters[1](at).example", ""),
        ("paths./m.get.responses.200.content.application/json.examples.one.value", "/items/0/n"),
        ("components.schemas.Item.properties.s.example", ""),
    ] {
        assert!(got.contains(&(location.to_owned(), path.to_owned())), "{location} {path} not reported: {got:#?}");
    }
    // A reference to a schema that does not exist fails instead of passing.
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.location.starts_with("paths./m.get.responses.404") && f.reason.contains("invalid")),
        "{:#?}",
        report.failures
    );
}

#[test]
fn nullable_allows_null_only_where_it_is_declared() {
    let spec = spec_json(&root().join("specs").join("octopush.yaml"));
    let schema = ok_schema(&spec);
    let fine = json!([{"message_id": "m", "user_identifiers": {"phone_number": null}, "delivery_status": null}]);
    assert_eq!(validate(&spec, &schema, &fine), Vec::<(String, String)>::new());
    let wrong = json!([{"message_id": null, "text": null}]);
    let paths: Vec<String> = validate(&spec, &schema, &wrong).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["/0/message_id", "/0/text"]);
}

#[test]
fn one_of_failures_name_the_path_inside_each_branch() {
    let spec = spec_json(&root().join("specs").join("leadconnector.yaml"));
    let wrong = json!({"lastMessageId": "x", "nextPage": true, "messages": [{"id": 1}]});
    let errors = validate(&spec, &ok_schema(&spec), &wrong);
    assert!(errors.iter().any(|(p, r)| p == "/messages/0/id" && r.contains("[oneOf branch 0]")), "{errors:#?}");
    assert!(errors.iter().any(|(p, r)| p == "/messages" && r.contains("[oneOf branch 1]")), "{errors:#?}");
}

#[test]
fn openapi_only_keywords_are_converted() {
    let mut problems = Vec::new();
    let converted = convert(
        &json!({"type": "integer", "minimum": 1, "exclusiveMinimum": true, "maximum": 9, "exclusiveMaximum": false,
                "x-extensible-enum": ["a"], "example": 3, "nullable": true}),
        &mut problems,
    );
    assert_eq!(converted, json!({"type": ["integer", "null"], "exclusiveMinimum": 1, "maximum": 9}));
    let converted = convert(&json!({"$ref": "#/components/schemas/A", "description": "ignored"}), &mut problems);
    assert_eq!(converted, json!({"$ref": "#/$defs/A"}));
    assert!(problems.is_empty(), "{problems:?}");
    convert(&json!({"$ref": "other.yaml#/A"}), &mut problems);
    assert_eq!(problems.len(), 1, "an outside reference is a problem, not a pass");
}
