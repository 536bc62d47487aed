//! The lenient reading of responses: a rewrite of the parsed spec before it
//! reaches progenitor.
//!
//! The specs say what the vendor pages document, `required` lists included.
//! Live APIs send less: a "required" field comes back absent or `null`, and
//! typify, which follows `required` and `nullable` to the letter, would then
//! fail the whole page. So, for every schema reachable from a response (and
//! only from responses: request parameters stay as strict as the spec says),
//! the generated view is made lenient:
//!
//! - every `required` list is emptied, except the identity field of the
//!   vendor's message schema ([`Identity`]), which stays required: a message
//!   without its id is not read as one (it is isolated instead, see
//!   `convo_runtime::Captured`);
//! - every inline property schema is marked `nullable: true` (so an array or
//!   object property accepts `null` as well as absence). A property that is a
//!   `$ref` is left as it is: once it is not required, typify makes it an
//!   `Option` of the named type, which already reads `null` as `None`, and
//!   leaving the reference alone keeps the `Captured` wrapping and the
//!   hand-written replacements matched.
//!
//! Array items and `oneOf` alternatives are not made nullable: an item that
//! is `null` is not a field, and it is left to the item's own reading.

use std::collections::{BTreeSet, VecDeque};

use openapiv3::{
    AdditionalProperties, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, RequestBody, Response, Schema,
    SchemaKind, Type,
};

/// The field that identifies a vendor's message: the one field of a response
/// that stays required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The schema in `components.schemas` (e.g. `Message`).
    pub schema: String,
    /// The property that is the message's id (e.g. `id`, `message_id`).
    pub field: String,
}

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Rewrites `api` so that every schema reachable from a response reads
/// leniently (see the module documentation). Fails when a schema that would
/// change is used by a request too (it cannot be both strict and lenient),
/// or when the identity does not name a response schema's property.
pub fn make_responses_lenient(api: &mut OpenAPI, identity: Option<&Identity>) -> Result<(), String> {
    let (response_roots, request_roots) = roots(api);
    let responses = reachable(api, response_roots);
    let requests = reachable(api, request_roots);

    if let Some(identity) = identity {
        let known = responses.contains(&identity.schema)
            && schema(api, &identity.schema)
                .is_some_and(|s| properties(s).is_some_and(|p| p.contains_key(&identity.field)));
        if !known {
            return Err(format!(
                "the identity `{}.{}` is not a property of a schema reachable from a response",
                identity.schema, identity.field
            ));
        }
    }

    let Some(components) = api.components.as_mut() else { return Ok(()) };
    for name in &responses {
        let Some(ReferenceOr::Item(schema)) = components.schemas.get_mut(name) else { continue };
        let keep = identity.filter(|i| &i.schema == name).map(|i| i.field.as_str());
        let before = schema.clone();
        lenient(schema, keep);
        if requests.contains(name) && *schema != before {
            return Err(format!(
                "schema `{name}` is used by a request and a response: it cannot be read leniently in one and \
                 strictly in the other; give the request its own schema"
            ));
        }
    }
    // Schemas written inline in a response (not under `components`).
    let inline_responses = api.paths.paths.values_mut().filter_map(item_mut);
    for item in inline_responses {
        for operation in operations_mut(item) {
            let responses = operation.responses.default.iter_mut().chain(operation.responses.responses.values_mut());
            for response in responses.filter_map(item_mut) {
                lenient_response(response);
            }
        }
    }
    if let Some(components) = api.components.as_mut() {
        for response in components.responses.values_mut().filter_map(item_mut) {
            lenient_response(response);
        }
    }
    Ok(())
}

fn item_mut<T>(r: &mut ReferenceOr<T>) -> Option<&mut T> {
    match r {
        ReferenceOr::Item(item) => Some(item),
        ReferenceOr::Reference { .. } => None,
    }
}

fn lenient_response(response: &mut Response) {
    for media in response.content.values_mut() {
        if let Some(ReferenceOr::Item(schema)) = media.schema.as_mut() {
            lenient(schema, None);
        }
    }
}

pub(crate) fn operations_mut(item: &mut openapiv3::PathItem) -> impl Iterator<Item = &mut openapiv3::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Empties `required` (but `keep`) and marks inline properties nullable, in
/// `schema` and every schema written inline in it.
fn lenient(schema: &mut Schema, keep: Option<&str>) {
    match &mut schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => {
            lenient_object(&mut object.properties, &mut object.required, keep);
            lenient_additional(object.additional_properties.as_mut());
        }
        SchemaKind::Any(any) => {
            lenient_object(&mut any.properties, &mut any.required, keep);
            lenient_additional(any.additional_properties.as_mut());
            if let Some(ReferenceOr::Item(items)) = any.items.as_mut() {
                lenient(items, None);
            }
            for sub in any.one_of.iter_mut().chain(any.all_of.iter_mut()).chain(any.any_of.iter_mut()) {
                if let ReferenceOr::Item(sub) = sub {
                    lenient(sub, keep);
                }
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            if let Some(ReferenceOr::Item(items)) = array.items.as_mut() {
                lenient(items, None);
            }
        }
        SchemaKind::OneOf { one_of: subs }
        | SchemaKind::AllOf { all_of: subs }
        | SchemaKind::AnyOf { any_of: subs } => {
            for sub in subs.iter_mut() {
                if let ReferenceOr::Item(sub) = sub {
                    lenient(sub, keep);
                }
            }
        }
        SchemaKind::Type(_) | SchemaKind::Not { .. } => {}
    }
}

fn lenient_object(
    properties: &mut indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
    required: &mut Vec<String>,
    keep: Option<&str>,
) {
    required.retain(|field| Some(field.as_str()) == keep);
    for (name, property) in properties.iter_mut() {
        if let ReferenceOr::Item(property) = property {
            if Some(name.as_str()) != keep {
                property.schema_data.nullable = true;
            }
            lenient(property, None);
        }
    }
}

fn lenient_additional(additional: Option<&mut AdditionalProperties>) {
    if let Some(AdditionalProperties::Schema(schema)) = additional
        && let ReferenceOr::Item(schema) = schema.as_mut()
    {
        lenient(schema, None);
    }
}

/// The schemas every response, and every request, starts from.
fn roots(api: &OpenAPI) -> (Vec<ReferenceOr<Schema>>, Vec<ReferenceOr<Schema>>) {
    let components = api.components.as_ref();
    let (mut responses, mut requests) = (Vec::new(), Vec::new());
    for item in api.paths.paths.values().filter_map(ReferenceOr::as_item) {
        let parameters = item.parameters.iter();
        for (_, operation) in item.iter() {
            let all = operation.responses.default.iter().chain(operation.responses.responses.values());
            for response in all {
                let response = match response {
                    ReferenceOr::Item(response) => Some(response),
                    ReferenceOr::Reference { reference } => components.and_then(|c| {
                        let name = reference.strip_prefix("#/components/responses/")?;
                        c.responses.get(name)?.as_item()
                    }),
                };
                responses
                    .extend(response.into_iter().flat_map(|r| r.content.values()).filter_map(|m| m.schema.clone()));
            }
            for parameter in parameters.clone().chain(operation.parameters.iter()) {
                let parameter: Option<&Parameter> = match parameter {
                    ReferenceOr::Item(parameter) => Some(parameter),
                    ReferenceOr::Reference { reference } => components.and_then(|c| {
                        let name = reference.strip_prefix("#/components/parameters/")?;
                        c.parameters.get(name)?.as_item()
                    }),
                };
                let Some(parameter) = parameter else { continue };
                match &parameter.parameter_data_ref().format {
                    ParameterSchemaOrContent::Schema(schema) => requests.push(schema.clone()),
                    ParameterSchemaOrContent::Content(content) => {
                        requests.extend(content.values().filter_map(|m| m.schema.clone()))
                    }
                }
            }
            let body: Option<&RequestBody> = match &operation.request_body {
                Some(ReferenceOr::Item(body)) => Some(body),
                Some(ReferenceOr::Reference { reference }) => components.and_then(|c| {
                    let name = reference.strip_prefix("#/components/requestBodies/")?;
                    c.request_bodies.get(name)?.as_item()
                }),
                None => None,
            };
            requests.extend(body.into_iter().flat_map(|b| b.content.values()).filter_map(|m| m.schema.clone()));
        }
    }
    (responses, requests)
}

fn schema<'a>(api: &'a OpenAPI, name: &str) -> Option<&'a Schema> {
    api.components.as_ref()?.schemas.get(name)?.as_item()
}

fn properties(schema: &Schema) -> Option<&indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => Some(&object.properties),
        SchemaKind::Any(any) => Some(&any.properties),
        _ => None,
    }
}

/// The names of the component schemas reachable from `roots`.
fn reachable(api: &OpenAPI, roots: Vec<ReferenceOr<Schema>>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<ReferenceOr<Schema>> = roots.into();
    while let Some(next) = queue.pop_front() {
        let schema = match next {
            ReferenceOr::Reference { reference } => {
                let Some(name) = reference.strip_prefix(SCHEMA_PREFIX) else { continue };
                if !seen.insert(name.to_owned()) {
                    continue;
                }
                match schema(api, name) {
                    Some(schema) => schema.clone(),
                    None => continue,
                }
            }
            ReferenceOr::Item(schema) => schema,
        };
        subschemas(&schema, &mut |sub| queue.push_back(sub));
    }
    seen
}

/// Every schema `schema` refers to or holds inline, one level down.
fn subschemas(schema: &Schema, push: &mut dyn FnMut(ReferenceOr<Schema>)) {
    let unbox = |r: &ReferenceOr<Box<Schema>>| match r {
        ReferenceOr::Reference { reference } => ReferenceOr::Reference { reference: reference.clone() },
        ReferenceOr::Item(schema) => ReferenceOr::Item((**schema).clone()),
    };
    let additional = |a: &Option<AdditionalProperties>| match a {
        Some(AdditionalProperties::Schema(schema)) => Some((**schema).clone()),
        _ => None,
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => {
            object.properties.values().map(unbox).for_each(&mut *push);
            additional(&object.additional_properties).into_iter().for_each(&mut *push);
        }
        SchemaKind::Type(Type::Array(array)) => array.items.iter().map(unbox).for_each(&mut *push),
        SchemaKind::Type(_) => {}
        SchemaKind::OneOf { one_of: subs }
        | SchemaKind::AllOf { all_of: subs }
        | SchemaKind::AnyOf { any_of: subs } => subs.iter().cloned().for_each(&mut *push),
        SchemaKind::Not { not } => push((**not).clone()),
        SchemaKind::Any(any) => {
            any.properties.values().map(unbox).for_each(&mut *push);
            additional(&any.additional_properties).into_iter().for_each(&mut *push);
            any.items.iter().map(unbox).for_each(&mut *push);
            any.one_of.iter().chain(&any.all_of).chain(&any.any_of).cloned().for_each(&mut *push);
            any.not.iter().map(|n| (**n).clone()).for_each(&mut *push);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(yaml: &str) -> OpenAPI {
        serde_norway::from_str(yaml).unwrap()
    }

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /m/{id}:
    get:
      operationId: get
      parameters:
        - {name: id, in: path, required: true, schema: {$ref: "#/components/schemas/Id"}}
        - {name: q, in: query, schema: {$ref: "#/components/schemas/Query"}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [items]
                properties:
                  items: {type: array, items: {$ref: "#/components/schemas/Message"}}
components:
  schemas:
    Id: {type: string, minLength: 1}
    Query: {type: object, required: [a], properties: {a: {type: string}}}
    Message:
      type: object
      required: [id, body, sender]
      properties:
        id: {type: string}
        body: {type: string}
        sender: {$ref: "#/components/schemas/Sender"}
        tags: {type: array, items: {type: string}}
    Sender: {type: object, required: [id], properties: {id: {type: string}}}
"##;

    fn object(schema: &Schema) -> &openapiv3::ObjectType {
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => object,
            other => panic!("not an object: {other:?}"),
        }
    }

    fn nullable(schema: &Schema, property: &str) -> bool {
        object(schema).properties[property].as_item().unwrap().schema_data.nullable
    }

    #[test]
    fn response_schemas_keep_only_the_identity_required_and_requests_stay_strict() {
        let mut spec = api(SPEC);
        let identity = Identity { schema: "Message".into(), field: "id".into() };
        make_responses_lenient(&mut spec, Some(&identity)).unwrap();
        let message = schema(&spec, "Message").unwrap();
        assert_eq!(object(message).required, ["id"]);
        assert!(!nullable(message, "id"));
        assert!(nullable(message, "body") && nullable(message, "tags"));
        // A `$ref` property stays a reference (it is an `Option` once not required).
        assert!(object(message).properties["sender"].as_item().is_none());
        assert!(object(schema(&spec, "Sender").unwrap()).required.is_empty());
        // Request parameters are not touched.
        assert_eq!(object(schema(&spec, "Query").unwrap()).required, ["a"]);
        // The inline response envelope is lenient too.
        let item = spec.paths.paths["/m/{id}"].as_item().unwrap();
        let response = item.get.as_ref().unwrap().responses.responses.values().next().unwrap().as_item().unwrap();
        let envelope = response.content["application/json"].schema.as_ref().unwrap().as_item().unwrap();
        assert!(object(envelope).required.is_empty());
        assert!(nullable(envelope, "items"));
    }

    #[test]
    fn an_identity_that_names_nothing_and_a_shared_schema_are_refused() {
        let mut spec = api(SPEC);
        let wrong = Identity { schema: "Message".into(), field: "message_id".into() };
        assert!(make_responses_lenient(&mut spec, Some(&wrong)).unwrap_err().contains("Message.message_id"));

        let shared = SPEC.replace(
            "items: {$ref: \"#/components/schemas/Message\"}",
            "items: {$ref: \"#/components/schemas/Query\"}",
        );
        let err = make_responses_lenient(&mut api(&shared), None).unwrap_err();
        assert!(err.contains("`Query` is used by a request and a response"), "{err}");
    }
}
