//! How long the normalizer takes to read one page, against the cost of
//! merely parsing the same bytes into a `serde_json::Value`.
//!
//! For each vendor, one page of 1,000 messages in the vendor's wire form
//! (`pages/mod.rs`: compact JSON built from the shapes of the documented
//! sample in `specs/<vendor>.yaml` and of `tests/fixtures/<vendor>/`, with
//! ids, texts, timestamps, channels and content types varied per message).
//! Two timings per vendor, on the same bytes:
//!
//! - `normalize_page`: `convo_normalize::normalize_page(vendor, &bytes)`, i.e.
//!   decode into the vendor crate's typed messages, keep each message's raw
//!   JSON, and map it into the unified `Message`.
//! - `serde_json_value`: `serde_json::from_slice::<serde_json::Value>(&bytes)`,
//!   the baseline.
//!
//! Run with `cargo bench -p convo-normalize --bench normalize`; `cargo xtask
//! bench` runs it too and reads the ratios out of `target/criterion`, beside
//! `convo-bench decode`, which times the same pages interleaved in CPU time.
//! Nothing here asserts on time.

use std::hint::black_box;

use convo_normalize::normalize_page;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;

mod pages;
use pages::{MESSAGES, pages};

fn normalize(c: &mut Criterion) {
    for (vendor, bytes) in pages() {
        // Not a timing: the page must be one the normalizer reads whole.
        let messages = normalize_page(vendor, &bytes).unwrap_or_else(|e| panic!("{vendor}: {e}"));
        assert_eq!(messages.len(), MESSAGES, "{vendor}");

        let mut group = c.benchmark_group(vendor.as_str());
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("normalize_page", |b| b.iter(|| normalize_page(vendor, black_box(&bytes))));
        group.bench_function("serde_json_value", |b| b.iter(|| serde_json::from_slice::<Value>(black_box(&bytes))));
        group.finish();
    }
}

criterion_group!(benches, normalize);
criterion_main!(benches);
