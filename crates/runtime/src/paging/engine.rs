//! The loop every scheme runs on: one step a page, errors last, fused.

use std::future::Future;

use futures::{Stream, StreamExt};

use tracing::Instrument as _;

use super::{Page, PagePosition, PagingError, Position, VendorError};
use crate::retry::{Context, RetryPolicy, retry};

/// What one step of a scheme gives.
pub(crate) enum Step<T, E: VendorError> {
    /// A page; more may follow.
    Page(Page<T>),
    /// The last page.
    Last(Page<T>),
    /// A page, then an error that ends the stream (the page itself is
    /// sound, but following it would repeat or skip messages).
    PageThen(Page<T>, PagingError<E>),
    /// The stream ends with this error.
    Fail(PagingError<E>),
    /// The stream ends, with nothing more to deliver.
    End,
}

/// A paging scheme: a state machine that makes one page (or the end) per
/// step.
pub(crate) trait Scheme: Send + 'static {
    type Item: Send + 'static;
    type Error: VendorError;
    fn step(&mut self) -> impl Future<Output = Step<Self::Item, Self::Error>> + Send;
}

enum State<S: Scheme> {
    Running(S),
    Failing(PagingError<S::Error>),
}

/// Runs a scheme as a stream of pages: every page in order, then at most
/// one error, then nothing (the stream is fused).
pub(crate) fn run<S: Scheme>(
    start: Result<S, PagingError<S::Error>>,
) -> impl Stream<Item = Result<Page<S::Item>, PagingError<S::Error>>> + Send + Unpin + 'static {
    let state = match start {
        Ok(scheme) => State::Running(scheme),
        Err(error) => State::Failing(error),
    };
    futures::stream::unfold(Some(state), |state| async move {
        match state? {
            State::Failing(error) => Some((Err(error), None)),
            State::Running(mut scheme) => match scheme.step().await {
                Step::Page(page) => Some((Ok(page), Some(State::Running(scheme)))),
                Step::Last(page) => Some((Ok(page), None)),
                Step::PageThen(page, error) => {
                    tracing::debug!(%error, "the stream ends with an error after this page");
                    Some((Ok(page), Some(State::Failing(error))))
                }
                Step::Fail(error) => {
                    tracing::debug!(%error, "the stream ends with an error");
                    Some((Err(error), None))
                }
                Step::End => None,
            },
        }
    })
    .fuse()
    // Boxed once a stream, so that callers can `.next()` it without pinning.
    .boxed()
}

/// Sends one page request with retries; a request that fails for good
/// becomes the [`PagingError`] naming `position`.
///
/// Each page is a `page` span (vendor, position) at debug level: the
/// request lines of the client and the retry lines happen inside it, and
/// it ends with one line saying how the page went (tries, time).
pub(crate) async fn fetch<T, E, F, Fut>(
    vendor: &'static str,
    policy: &RetryPolicy,
    position: &Option<Position>,
    op: F,
) -> Result<T, PagingError<E>>
where
    E: VendorError,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, progenitor_client::Error<E>>>,
{
    let page = PagePosition(position.clone());
    let span = tracing::debug_span!("page", vendor, page = %page);
    let started = std::time::Instant::now();
    let result = retry(policy, Context { vendor, page: &page }, op).instrument(span.clone()).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let _entered = span.enter();
    match result {
        Ok(value) => {
            tracing::debug!(elapsed_ms, "page read");
            Ok(value)
        }
        Err(exhausted) => {
            let error = PagingError::request(position.clone(), exhausted);
            tracing::debug!(elapsed_ms, attempts = error.attempts(), kind = ?error.kind(), "page request failed for good");
            Err(error)
        }
    }
}
