//! `convo-bench sync`: issue 11's benchmark. Many conversations of the
//! sandbox (Bird, 20 ms per response) read under one 50 requests/s budget
//! by `convo_sync::sync`, against the same conversations read one after
//! another; then a rerun with the state and nothing new. One JSON object a
//! run on standard output (`cargo xtask bench` reads them).

use std::time::{Duration, Instant};

use convo_normalize::fetch::{ClientOptions, RateBudget, Selector, Source};
use convo_sandbox::{Sandbox, SandboxOptions, Vendor, ids};
use convo_sync::{Conversation, MemoryStore, MergedNdjson, Summary, SyncOptions};
use serde_json::json;

const RATE: u32 = 50;

fn number(flag: &str, value: Option<&String>) -> Result<usize, String> {
    value.and_then(|v| v.parse().ok()).ok_or_else(|| format!("{flag} needs a whole number"))
}

pub fn command(args: &[String]) -> Result<(), String> {
    let (mut conversations, mut messages, mut delay_ms, mut concurrency) = (200usize, 250usize, 20usize, 16usize);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--conversations" => conversations = number(flag, args.next())?.max(1),
            "--messages" => messages = number(flag, args.next())?,
            "--delay-ms" => delay_ms = number(flag, args.next())?,
            "--concurrency" => concurrency = number(flag, args.next())?.max(1),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let options = SandboxOptions {
            messages,
            conversations,
            delay: Duration::from_millis(delay_ms as u64),
            // The vendor's limit, enforced: a 429 here is one the budget let through.
            rate_limit: Some(convo_sandbox::RateLimit { requests: RATE, per: Duration::from_secs(1) }),
            ..SandboxOptions::default()
        };
        let sandbox = Sandbox::start(options).await.map_err(|e| e.to_string())?;
        let setup = json!({
            "vendor": "bird",
            "conversations": conversations,
            "messages": messages,
            "delay_ms": delay_ms,
            "sandbox_limit_per_s": RATE,
            // Bird's cursor read ends on the page that gives no next
            // token: a page of up to its largest size each, and at least one.
            "min_requests": conversations as u64 * (messages as u64).div_ceil(convo_bird::MAX_PAGE_SIZE).max(1),
        });
        let mut store = MemoryStore::default();
        let (summary, wall, rejected) = run(&sandbox, conversations, &mut store, concurrency).await?;
        report("concurrent", &setup, concurrency, &summary, wall, rejected);
        let (again, wall_again, rejected_again) = run(&sandbox, conversations, &mut store, concurrency).await?;
        report("rerun", &setup, concurrency, &again, wall_again, rejected_again);
        let (sequential, wall_sequential, rejected_sequential) =
            run(&sandbox, conversations, &mut MemoryStore::default(), 1).await?;
        report("sequential", &setup, 1, &sequential, wall_sequential, rejected_sequential);
        Ok(())
    })
}

/// One sync of the sandbox's conversations under Bird's budget: its
/// summary, wall time and the 429s the sandbox sent.
async fn run(
    sandbox: &Sandbox,
    conversations: usize,
    store: &mut MemoryStore,
    concurrency: usize,
) -> Result<(Summary, Duration, usize), String> {
    // Within the sandbox's strict sliding window of 50 a second whatever the
    // phase: at most 1 + 49 t requests in any span t. (Bird's own default
    // budget, `Vendor::rate_limit`, allows a burst of 10, which Bird's
    // documented burst of 250 tolerates and this strict window does not.)
    let budget = RateBudget::new(RATE - 1, Duration::from_secs(1), 1);
    let sources = sources(sandbox, conversations, &budget)?;
    let options = SyncOptions { concurrency, page_size: None, budget: Some(budget), ..SyncOptions::default() };
    let mut sink = MergedNdjson::new(std::io::sink());
    let rejected = sandbox.rate_limited(Vendor::Bird);
    let started = Instant::now();
    let summary = convo_sync::sync(sources, store, &mut sink, options, |_| {}, std::future::pending())
        .await
        .map_err(|e| e.to_string())?;
    Ok((summary, started.elapsed(), sandbox.rate_limited(Vendor::Bird) - rejected))
}

fn sources(sandbox: &Sandbox, count: usize, budget: &RateBudget) -> Result<Vec<Conversation>, String> {
    let options = ClientOptions { rate_budget: Some(budget.clone()), ..ClientOptions::default() };
    let selector = |n: usize| Selector {
        conversation: Some(ids::numbered(Vendor::Bird, n)),
        workspace: Some(ids::bird::WORKSPACE.to_owned()),
        ..Selector::default()
    };
    let first = Source::from_vars(Vendor::Bird, &selector(0), sandbox.vars(Vendor::Bird), &options)
        .map_err(|e| e.to_string())?;
    let mut all = Vec::with_capacity(count);
    for n in 1..count {
        all.push(Conversation {
            key: ids::numbered(Vendor::Bird, n),
            source: first.other(&selector(n)).map_err(|e| e.to_string())?,
        });
    }
    all.insert(0, Conversation { key: ids::numbered(Vendor::Bird, 0), source: first });
    Ok(all)
}

/// One run as a JSON line: what it read, its requests and 429s, and its
/// wall time against `requests / RATE per s`.
fn report(
    run: &str,
    setup: &serde_json::Value,
    concurrency: usize,
    summary: &Summary,
    wall: Duration,
    rejected: usize,
) {
    let floor_s = summary.budget.requests as f64 / f64::from(RATE);
    println!(
        "{}",
        json!({
            "run": run,
            "setup": setup,
            "concurrency": concurrency,
            "conversations": summary.conversations,
            "complete": summary.complete,
            "messages_written": summary.messages,
            "requests": summary.budget.requests,
            "rate_limited_received": summary.budget.rate_limited,
            "rate_limited_sent": rejected,
            "wall_s": wall.as_secs_f64(),
            "wall_over_floor": wall.as_secs_f64() / floor_s,
            "floor_s": floor_s,
        })
    );
}
