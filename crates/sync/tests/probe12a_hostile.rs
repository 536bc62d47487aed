//! Round 12a of probes: `sync()` reruns against the hostile vendor server
//! (listings that change between pages, capped and short pages, cursors
//! and tokens that point back), page sizes 1 and 5, messages added between
//! runs: each message at most once across the runs' outputs, a success
//! only with every message the listing held throughout, and no credential
//! in any error. Passes (kept as a probe).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use convo_hostile::{Behaviour, CANARY, DEFAULT_BIRD_WORKSPACE, End, HostileServer, Options, Vendor as H};
use convo_normalize::Vendor;
use convo_normalize::fetch::{ClientOptions, Selector, Source};
use convo_sync::{Conversation, MemoryStore, MergedNdjson, SyncOptions, sync};

fn vendor(h: H) -> Vendor {
    match h {
        H::Infobip => Vendor::Infobip,
        H::Octopush => Vendor::Octopush,
        H::Leadconnector => Vendor::Leadconnector,
        H::Bird => Vendor::Bird,
    }
}

fn source(server: &HostileServer) -> Source {
    let h = server.vendor();
    let v = vendor(h);
    let base = server.base_url();
    let names = v.variables();
    let vars = move |name: &str| -> Option<String> {
        if name == names.base_url {
            return Some(base.clone());
        }
        match name {
            "OCTOPUSH_API_LOGIN" => Some(format!("login-{CANARY}")),
            n if names.credentials.contains(&n) => Some(CANARY.to_owned()),
            _ => None,
        }
    };
    let selector = Selector {
        conversation: Some(h.default_conversation().to_owned()),
        workspace: (h == H::Bird).then(|| DEFAULT_BIRD_WORKSPACE.to_owned()),
        ..Default::default()
    };
    Source::from_vars(v, &selector, vars, &ClientOptions { timeout: Duration::from_secs(5), ..Default::default() })
        .unwrap()
}

fn behaviours(h: H) -> Vec<Behaviour> {
    let mut b = vec![
        Behaviour::Honest,
        Behaviour::Insert { at: End::Head },
        Behaviour::Insert { at: End::Newest },
        Behaviour::Delete { at: End::Head },
        Behaviour::Delete { at: End::Newest },
        Behaviour::DeleteAndInsert { delete: End::Head, insert: End::Newest },
        Behaviour::CapPageSize { max: 3 },
        Behaviour::ShortPage { page: 2, missing: 1 },
        Behaviour::UnderstateTotal { by: 2 },
        Behaviour::Status { status: 503, page: 2 },
        Behaviour::DropConnection { page: 3 },
    ];
    match h {
        H::Leadconnector => b.extend([Behaviour::CursorIntoSamePage, Behaviour::CursorIntoPreviousPage]),
        H::Bird => b.extend([Behaviour::TokenOneEarly, Behaviour::SamePageFreshToken]),
        _ => {}
    }
    b
}

/// Probe: see the module doc. Three runs: the first as served with the
/// behaviour, then three messages added at the newest end before each of
/// two reruns.
#[tokio::test]
async fn sync_reruns_against_the_hostile_server_are_exactly_once() {
    let mut failures = Vec::new();
    for same_ms in [1usize, 4, 40] {
        for h in H::ALL {
            for behaviour in behaviours(h) {
                if same_ms > 1
                    && !matches!(
                        behaviour,
                        Behaviour::Honest
                            | Behaviour::Insert { .. }
                            | Behaviour::CapPageSize { .. }
                            | Behaviour::UnderstateTotal { .. }
                    )
                {
                    continue;
                }
                for page_size in [1u64, 5] {
                    // A short page of a one-message page is an empty page:
                    // Octopush's documented end, not a misbehaviour to catch.
                    if matches!(behaviour, Behaviour::ShortPage { missing, .. } if missing as u64 >= page_size) {
                        continue;
                    }
                    // After a deletion of the newest message the hostile server
                    // stamps the messages it adds just after the newest left,
                    // earlier than the deleted one (already written): a read for
                    // what is new by time rightly takes them for old. Only "at
                    // most once" is checked there.
                    let deletes = matches!(behaviour, Behaviour::Delete { .. } | Behaviour::DeleteAndInsert { .. });
                    let what = format!("{h:?} {behaviour:?} size {page_size} same_ms {same_ms}");
                    let server = HostileServer::start(
                        Options::new(h, 30).same_millisecond(same_ms).behaviour(behaviour.clone()).budget(3000),
                    )
                    .await
                    .unwrap();
                    let mut store = MemoryStore::default();
                    let mut delivered: Vec<String> = Vec::new();
                    let mut added = Vec::new();
                    let mut last_ok = false;
                    let mut seen = 0;
                    for run in 0..3 {
                        if run > 0 {
                            for _ in 0..3 {
                                added.push(server.add(End::Newest));
                            }
                        }
                        let mut sink = MergedNdjson::new(Vec::new());
                        let conversation = Conversation { key: "c".into(), source: source(&server) };
                        let options = SyncOptions { page_size: Some(page_size), ..Default::default() };
                        let s = tokio::time::timeout(
                            Duration::from_secs(60),
                            sync(vec![conversation], &mut store, &mut sink, options, |_| {}, std::future::pending()),
                        )
                        .await
                        .unwrap_or_else(|_| panic!("{what}: run {run} hung"))
                        .unwrap();
                        for (_, e) in &s.failed {
                            let text = format!("{e} {e:?}");
                            if text.contains(CANARY) {
                                failures.push(format!("{what}: run {run}: the credential in an error"));
                            }
                        }
                        let out = String::from_utf8(sink.into_inner()).unwrap();
                        if out.contains(CANARY) {
                            failures.push(format!("{what}: run {run}: the credential in the output"));
                        }
                        for l in out.lines() {
                            let v: serde_json::Value = serde_json::from_str(l).unwrap();
                            delivered.push(v["message"]["id"].as_str().unwrap_or("").to_owned());
                        }
                        if run == 0 {
                            let verdict = server.expectation().verdict(&delivered, !s.succeeded());
                            if let Err(e) = verdict {
                                failures.push(format!("{what}: first run: {e}"));
                            }
                        }
                        last_ok = s.succeeded();
                        if std::env::var("PROBE_DEBUG").is_ok_and(|d| what.starts_with(&d)) {
                            eprintln!(
                                "{what} run {run}: wrote {} {:?} failed {:?}",
                                out.lines().count(),
                                out.lines()
                                    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["message"]["id"]
                                        .as_str()
                                        .unwrap_or("")
                                        .to_owned())
                                    .collect::<Vec<_>>(),
                                s.failed
                            );
                            eprintln!("   {}", serde_json::to_string(&store.checkpoints).unwrap());
                            eprintln!(
                                "   requests: {:?}",
                                server.requests().iter().skip(seen).map(|r| r.params()).collect::<Vec<_>>()
                            );
                            seen = server.requests().len();
                        }
                    }
                    let mut count: HashMap<&str, usize> = HashMap::new();
                    for id in &delivered {
                        *count.entry(id).or_default() += 1;
                    }
                    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).map(|(id, _)| *id).collect();
                    if !twice.is_empty() {
                        failures.push(format!("{what}: written twice across runs: {twice:?}"));
                    }
                    if last_ok && !deletes {
                        let have: BTreeSet<&str> = delivered.iter().map(String::as_str).collect();
                        let required = server.expectation().required;
                        let missing: Vec<_> = required
                            .iter()
                            .map(String::as_str)
                            .chain(added.iter().map(String::as_str))
                            .filter(|id| !have.contains(id))
                            .collect();
                        if !missing.is_empty() {
                            failures.push(format!(
                                "{what}: the last run succeeded but {} are missing: {missing:?}",
                                missing.len()
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
