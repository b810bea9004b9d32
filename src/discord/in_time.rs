//! Answering a submitted form within Discord's three seconds, however long
//! the database takes.
//!
//! Discord forgets an interaction that is not acknowledged within three
//! seconds: the member sees "This interaction failed", and the answer that
//! says whether their words were kept (and gives them back when they were
//! not) can no longer be sent. Most saves take milliseconds, but on
//! PostgreSQL a save may wait for a lock, for a synchronous standby (up to
//! [`crate::store::COMMIT_WITHIN`]) or for the server to come back after a
//! failover. So a form's answer is worked out while a timer runs: if the
//! answer is not ready after [`ACKNOWLEDGE_AFTER`], Discord is told first
//! that the answer is coming (privately), and the answer then replaces that
//! acknowledgement; the interaction's token stays valid for fifteen minutes.
//!
//! The work runs on the caller's thread in a place the runtime knows may
//! block (the store's calls are synchronous), so that the timer, the
//! gateway's heartbeat and other members' commands go on meanwhile.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::ModalInteraction;

use super::BotError;
use super::reply::{to_edit, to_response};
use crate::commands::Reply;

/// How long a form's answer may take before Discord is told it is coming:
/// well inside Discord's three seconds, leaving time for the request itself.
pub(super) const ACKNOWLEDGE_AFTER: Duration = Duration::from_millis(1500);

/// Neither the answer nor the acknowledgement has gone yet.
const WAITING: u8 = 0;
/// The answer was ready first: it is the interaction's first response.
const ANSWERED: u8 = 1;
/// The timer fired first: the acknowledgement is the first response, and
/// the answer replaces it.
const ACKNOWLEDGED: u8 = 2;

/// Answers `submit` with the reply `work` gives, acknowledging it first if
/// the reply takes longer than [`ACKNOWLEDGE_AFTER`].
pub(super) async fn answer_form(
    ctx: &serenity::Context,
    submit: &ModalInteraction,
    work: impl Future<Output = Reply>,
) -> Result<(), BotError> {
    answer_form_then(ctx, submit, work, |_| {}).await
}

/// [`answer_form`], then `sent` with the reply once Discord has taken it
/// (not when sending failed): what is kept only until the member has it,
/// a replaced form's words given back, is let go of there.
pub(super) async fn answer_form_then(
    ctx: &serenity::Context,
    submit: &ModalInteraction,
    work: impl Future<Output = Reply>,
    sent: impl FnOnce(&Reply),
) -> Result<(), BotError> {
    let reply = answer(ctx, submit, work).await?;
    may_block(async { sent(&reply) }).await;
    Ok(())
}

/// Sends the reply `work` gives as [`answer_form`] says; the reply, once
/// sent.
async fn answer(
    ctx: &serenity::Context,
    submit: &ModalInteraction,
    work: impl Future<Output = Reply>,
) -> Result<Reply, BotError> {
    let state = Arc::new(AtomicU8::new(WAITING));
    let acknowledgement = {
        let state = Arc::clone(&state);
        let http = Arc::clone(&ctx.http);
        let submit = submit.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ACKNOWLEDGE_AFTER).await;
            if state
                .compare_exchange(WAITING, ACKNOWLEDGED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                submit.defer_ephemeral(&http).await
            } else {
                Ok(())
            }
        })
    };
    let reply = may_block(work).await;
    if state
        .compare_exchange(WAITING, ANSWERED, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        acknowledgement.abort();
        submit
            .create_response(
                &ctx.http,
                serenity::CreateInteractionResponse::Message(to_response(&reply)),
            )
            .await?;
        return Ok(reply);
    }
    // The acknowledgement went (or is going) first: the answer follows it.
    // An acknowledgement whose answer was lost may still have reached
    // Discord, so the answer is tried as its replacement all the same, and
    // then as a first response: the reply may hold the member's words.
    let acknowledged = match acknowledgement.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match submit.edit_response(&ctx.http, to_edit(&reply)).await {
        Ok(_) => Ok(reply),
        Err(edit) => {
            if let Err(why) = &acknowledged {
                tracing::warn!(error = %why, "a form's acknowledgement failed");
            }
            submit
                .create_response(
                    &ctx.http,
                    serenity::CreateInteractionResponse::Message(to_response(&reply)),
                )
                .await
                .map(|()| reply)
                .map_err(|_| edit.into())
        }
    }
}

/// Runs `work` to completion on this thread, telling a multi-threaded
/// runtime that it may block so that its other tasks move to other threads.
async fn may_block<T>(work: impl Future<Output = T>) -> T {
    let handle = tokio::runtime::Handle::current();
    match handle.runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(work))
        }
        // A single-threaded runtime cannot lend its thread: the work runs
        // as any other task (the timer then waits for it).
        _ => work.await,
    }
}
