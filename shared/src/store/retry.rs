//! The store's one retry policy: what DynamoDB leaves unprocessed in a batch call, and a
//! transaction cancelled by a concurrent one, are sent again after a short, jittered wait.
//! Full jitter (a random wait up to a doubling ceiling) keeps concurrent writers that
//! collided once from colliding again in step.

use crate::error::{Error, Result};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One call of a batch: what it got, and what it left unprocessed. Boxed, so the callers'
/// futures (a stream handler's, several calls deep) stay small types the compiler lays out
/// quickly.
pub(super) type BatchCall<'a, P, T> = Pin<Box<dyn Future<Output = Result<(Vec<T>, Option<P>)>> + Send + 'a>>;

/// Waits before retry `attempt` (0-based): 5 ms plus a random share of 10, 20, 40, … 320 ms.
pub(super) async fn backoff(attempt: u32) {
    let mut b = [0u8; 2];
    let _ = aws_lc_rs::rand::fill(&mut b);
    let jitter = u64::from(u16::from_be_bytes(b)) % (10 << attempt.min(5));
    tokio::time::sleep(Duration::from_millis(5 + jitter)).await;
}

/// Calls `call` with `pending` until it leaves nothing unprocessed, at most `tries` times,
/// and gathers what the calls returned. `call` answers what it got and what is left, if
/// anything; what is still left after the last try is `Unavailable` (a retry may succeed).
pub(super) async fn until_processed<'a, P, T>(
    mut pending: P,
    tries: u32,
    what: &'static str,
    mut call: impl FnMut(P) -> BatchCall<'a, P, T>,
) -> Result<Vec<T>> {
    let mut gathered = Vec::new();
    for attempt in 0..tries {
        let (got, left) = call(pending).await?;
        gathered.extend(got);
        match left {
            None => return Ok(gathered),
            Some(rest) => pending = rest,
        }
        if attempt + 1 < tries {
            backoff(attempt).await;
        }
    }
    Err(Error::Unavailable(format!("{what} left unprocessed after {tries} tries").into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn what_is_left_is_sent_again_and_everything_got_is_kept() {
        let mut sent = Vec::new();
        let got = until_processed(vec![1, 2, 3], 5, "keys", |pending: Vec<i32>| {
            sent.push(pending.clone());
            Box::pin(async move {
                // Each call processes the first item and leaves the rest.
                let rest = pending[1..].to_vec();
                Ok((vec![pending[0] * 10], (!rest.is_empty()).then_some(rest)))
            })
        })
        .await
        .unwrap();
        assert_eq!(got, vec![10, 20, 30]);
        assert_eq!(sent, vec![vec![1, 2, 3], vec![2, 3], vec![3]]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn still_left_after_the_last_try_is_unavailable_not_lost() {
        let mut calls = 0;
        let result = until_processed(vec![1], 3, "writes", |pending: Vec<i32>| {
            calls += 1;
            Box::pin(async move { Ok((Vec::<()>::new(), Some(pending))) })
        })
        .await;
        assert_eq!(calls, 3);
        assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_call_stops_at_once() {
        let mut calls = 0;
        let result = until_processed(vec![1], 5, "keys", |_: Vec<i32>| {
            calls += 1;
            Box::pin(async move { Err::<(Vec<()>, Option<Vec<i32>>), _>(Error::internal_msg("throttled for good")) })
        })
        .await;
        assert_eq!(calls, 1);
        assert!(matches!(result, Err(Error::Internal(_))));
    }
}
