//! The loop every scheme runs on: one step a page, errors last, fused.

use std::fmt;
use std::future::Future;

use futures::{Stream, StreamExt};

use super::{Page, PagingError, Position};
use crate::retry::{RetryPolicy, retry};

/// What one step of a scheme gives.
pub(crate) enum Step<T, E: fmt::Debug + 'static> {
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
    type Error: fmt::Debug + Send + 'static;
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
) -> impl Stream<Item = Result<Page<S::Item>, PagingError<S::Error>>> + Send + 'static {
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
                Step::PageThen(page, error) => Some((Ok(page), Some(State::Failing(error)))),
                Step::Fail(error) => Some((Err(error), None)),
                Step::End => None,
            },
        }
    })
    .fuse()
}

/// Sends one page request with retries; a request that fails for good
/// becomes the [`PagingError`] naming `position`.
pub(crate) async fn fetch<T, E, F, Fut>(
    policy: &RetryPolicy,
    position: &Option<Position>,
    op: F,
) -> Result<T, PagingError<E>>
where
    E: fmt::Debug + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, progenitor_client::Error<E>>>,
{
    retry(policy, op).await.map_err(|exhausted| PagingError::request(position.clone(), exhausted))
}
