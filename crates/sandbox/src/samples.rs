//! The documented samples, read from the 200 `example` of each vendor's
//! spec: the one place they are kept.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde_norway::Value;

use crate::ids;

const INFOBIP: &str = include_str!("../specs/infobip.yaml");
const OCTOPUSH: &str = include_str!("../specs/octopush.yaml");
const LEADCONNECTOR: &str = include_str!("../specs/leadconnector.yaml");
const BIRD: &str = include_str!("../specs/bird.yaml");

/// One vendor's documented sample conversation.
pub(crate) struct Sample {
    /// The id the conversation is served under.
    pub conversation: String,
    /// Its messages in natural order (oldest first; for Infobip and
    /// Octopush, the order the example lists them in).
    pub messages: Vec<SampleMessage>,
}

/// One message of a sample, kept as the spec writes it (key order included).
pub(crate) struct SampleMessage {
    pub value: Value,
    pub id: String,
    pub created: Option<DateTime<Utc>>,
}

impl SampleMessage {
    /// A text field of the message.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Value::as_str)
    }
}

/// The four samples.
pub(crate) struct Samples {
    pub infobip: Sample,
    pub octopush: Sample,
    pub leadconnector: Sample,
    pub bird: Sample,
}

/// The samples, parsed once per process.
pub(crate) fn load() -> Result<&'static Samples, String> {
    static SAMPLES: OnceLock<Result<Samples, String>> = OnceLock::new();
    SAMPLES.get_or_init(parse).as_ref().map_err(Clone::clone)
}

fn parse() -> Result<Samples, String> {
    let infobip = example("infobip.yaml", INFOBIP)?;
    let infobip = messages("infobip.yaml", &infobip["messages"], "id", "createdAt", Order::AsListed)?;

    let octopush = example("octopush.yaml", OCTOPUSH)?;
    let octopush = messages("octopush.yaml", &octopush, "message_id", "", Order::AsListed)?;

    let leadconnector = example("leadconnector.yaml", LEADCONNECTOR)?;
    // The flat body documented on the page, or the live nested one.
    let mut list = &leadconnector["messages"];
    if list.is_mapping() {
        list = &list["messages"];
    }
    let leadconnector = messages("leadconnector.yaml", list, "id", "dateAdded", Order::NewestFirst)?;

    let bird = example("bird.yaml", BIRD)?;
    let bird = messages("bird.yaml", &bird["results"], "id", "createdAt", Order::NewestFirst)?;

    Ok(Samples {
        infobip: Sample { conversation: conversation_id("infobip.yaml", &infobip)?, messages: infobip },
        octopush: Sample { conversation: ids::octopush::SAMPLE_CONVERSATION.to_owned(), messages: octopush },
        leadconnector: Sample {
            conversation: conversation_id("leadconnector.yaml", &leadconnector)?,
            messages: leadconnector,
        },
        bird: Sample { conversation: conversation_id("bird.yaml", &bird)?, messages: bird },
    })
}

/// The `application/json` example of the 200 response of the spec's one
/// operation.
fn example(name: &str, text: &str) -> Result<Value, String> {
    let spec: Value = serde_norway::from_str(text).map_err(|e| format!("specs/{name} is not valid YAML: {e}"))?;
    let operation = spec["paths"]
        .as_mapping()
        .and_then(|paths| paths.values().next())
        .map(|item| &item["get"])
        .ok_or_else(|| format!("specs/{name} has no path"))?;
    let example = &operation["responses"]["200"]["content"]["application/json"]["example"];
    if example.is_null() {
        return Err(format!("specs/{name} has no `example` for the 200 response"));
    }
    Ok(example.clone())
}

enum Order {
    /// The example lists the messages in natural order.
    AsListed,
    /// The example lists them newest first.
    NewestFirst,
}

fn messages(
    name: &str,
    list: &Value,
    id_key: &str,
    created_key: &str,
    order: Order,
) -> Result<Vec<SampleMessage>, String> {
    let list = list.as_sequence().ok_or_else(|| format!("specs/{name}: the 200 example holds no message list"))?;
    let mut messages = list
        .iter()
        .enumerate()
        .map(|(n, value)| {
            let id = value[id_key]
                .as_str()
                .ok_or_else(|| format!("specs/{name}: message {n} of the 200 example has no `{id_key}`"))?
                .to_owned();
            let created = if created_key.is_empty() {
                None
            } else {
                let text = value[created_key].as_str().unwrap_or("");
                let created = crate::time::parse(text).ok_or_else(|| {
                    format!("specs/{name}: message {n} of the 200 example has no valid `{created_key}`: {text:?}")
                })?;
                Some(created)
            };
            Ok(SampleMessage { value: value.clone(), id, created })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if let Order::NewestFirst = order {
        // Oldest first; messages of the same instant keep the example's
        // order when walked newest first.
        messages.reverse();
        messages.sort_by_key(|m| m.created);
    }
    Ok(messages)
}

fn conversation_id(name: &str, messages: &[SampleMessage]) -> Result<String, String> {
    messages
        .first()
        .and_then(|m| m.text("conversationId"))
        .map(str::to_owned)
        .ok_or_else(|| format!("specs/{name}: the 200 example's first message has no `conversationId`"))
}
