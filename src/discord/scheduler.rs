//! The competence of the week, posted: one task for every server's schedule,
//! woken by the clock at the next slot or by a change of schedule.
//!
//! Exactly one post per slot: the slot is claimed in the store (compare and
//! swap) before anything is sent; the message carries a nonce derived from
//! server and slot with `enforce_nonce`, so a retry after a crash cannot post
//! twice; the result is recorded after. A channel that is gone or closed to
//! the bot (403/404) pauses that server's schedule with the reason, and
//! nothing else stops.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use chrono::{DateTime, Duration, Utc};
use poise::serenity_prelude as serenity;
use tokio::sync::{Notify, mpsc};

use super::reply::{embed, no_mentions};
use super::rest::{Rest, RestError};
use crate::clock::Clock;
use crate::commands::Action;
use crate::framework::CompetenceId;
use crate::library::Library;
use crate::prompts::WeeklyPrompts;
use crate::render::Card;
use crate::schedule::{decide, next_competence};
use crate::store::{ScheduleRecord, SlotState, Store, StoreError, Week};

/// What became of one attempt to post a server's competence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOutcome {
    /// Posted (and its thread opened, if Discord allowed).
    Posted(CompetenceId),
    /// This slot was posted already; nothing more was sent.
    AlreadyPosted,
    /// The schedule's domains hold no competence in this framework.
    NothingInScope,
    /// The chosen competence has no card in this framework.
    NoCard(CompetenceId),
    /// The channel is gone or closed to the bot: the schedule is paused.
    Paused,
    /// Discord did not take the post; the weekly tick tries again.
    NotTaken,
}

/// What the scheduler did, for tests and for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedulerEvent {
    /// A pass over every schedule finished, at this clock time.
    Ticked(DateTime<Utc>),
    /// A weekly post went out.
    Posted {
        /// The server.
        guild: u64,
        /// The slot.
        slot: DateTime<Utc>,
        /// The competence.
        competence: CompetenceId,
    },
    /// A schedule was paused because its channel cannot be posted to.
    Paused {
        /// The server.
        guild: u64,
    },
    /// A member's reminder was delivered.
    Reminded {
        /// The member.
        member: u64,
    },
}

/// How soon a failed post is retried (within the grace period).
const RETRY: i64 = 5;
/// The longest the task sleeps without looking again.
const MAX_SLEEP_MINUTES: i64 = 60;
/// How often each server's meeting events are compared with Discord's
/// while the bot stays connected (the gateway tells it of each deletion;
/// this catches one it missed).
const CHECK_EVENTS_EVERY: i64 = 60;

/// Posts every server's weekly competence.
pub struct Scheduler {
    pub(super) framework: Arc<Library>,
    pub(super) prompts: WeeklyPrompts,
    pub(super) store: Store,
    pub(super) rest: Rest,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) wake: Notify,
    pub(super) events: Option<mpsc::UnboundedSender<SchedulerEvent>>,
    /// This process's shards: it posts for the servers they own, and sends
    /// the members' reminders and reviews and runs the upkeep only if it
    /// runs shard 0, so that across processes exactly one does each.
    pub(super) shards: crate::shards::ShardRange,
    /// When each server's meeting events were last compared with Discord's
    /// (events deleted while the bot was not connected).
    pub(super) events_checked: std::sync::Mutex<EventsChecked>,
}

/// When each server's meeting events were last compared with Discord's, in
/// this gateway session. A new session follows a time Discord's events may
/// not have reached the bot: what was compared before it counts for nothing,
/// even a comparison under way when it began.
#[derive(Debug, Default)]
pub(super) struct EventsChecked {
    session: u64,
    at: HashMap<u64, DateTime<Utc>>,
}

impl Scheduler {
    fn emit(&self, event: SchedulerEvent) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }

    /// Wakes the task: a schedule changed.
    pub fn changed(&self) {
        self.wake.notify_one();
    }

    /// Wakes the task to compare every server's meeting events with
    /// Discord's: the gateway began a new session, and whatever was deleted
    /// before it was never told.
    pub(super) fn reconnected(&self) {
        let mut checked = self.checked();
        checked.session += 1;
        checked.at.clear();
        drop(checked);
        self.wake.notify_one();
    }

    fn checked(&self) -> std::sync::MutexGuard<'_, EventsChecked> {
        self.events_checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a server's meeting events are to be compared with Discord's
    /// on the pass at `now`: never yet since the bot connected, or not for
    /// an hour (or the clock went back).
    fn check_events(&self, guild: u64, now: DateTime<Utc>) -> bool {
        self.checked()
            .at
            .get(&guild)
            .is_none_or(|&at| at > now || now - at >= Duration::minutes(CHECK_EVENTS_EVERY))
    }

    /// Runs until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        loop {
            let now = self.clock.now();
            let next = self.tick(now).await;
            self.emit(SchedulerEvent::Ticked(now));
            let until = next.min(now + Duration::minutes(MAX_SLEEP_MINUTES));
            tokio::select! {
                () = self.clock.wait_until(until) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// One pass: posts what is due; returns when to look again.
    pub async fn tick(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut next = now + Duration::minutes(MAX_SLEEP_MINUTES);
        let schedules = match self.store.schedules() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the schedules");
                return now + Duration::minutes(RETRY);
            }
        };
        for (guild, record) in schedules {
            if !self.shards.owns(guild) {
                continue;
            }
            match self.tick_guild(guild, record, now).await {
                Ok(at) => next = next.min(at),
                Err(e) => {
                    tracing::error!(guild, error = %e, "schedule failed");
                    next = next.min(now + Duration::minutes(RETRY));
                }
            }
        }
        // The group's meetings: events made, moved or removed, roles given.
        match self.store.all_meetings() {
            Ok(all) => {
                for (guild, _) in all.into_iter().filter(|(g, _)| self.shards.owns(*g)) {
                    let check = self.check_events(guild, now);
                    let session = self.checked().session;
                    let synced =
                        super::meetings::sync(&self.store, &self.rest, guild, now, check).await;
                    match synced {
                        Ok(synced) if synced.events_checked => {
                            let mut checked = self.checked();
                            if checked.session == session {
                                checked.at.insert(guild, now);
                            }
                        }
                        // Discord did not answer: asked again soon.
                        Ok(_) if check => next = next.min(now + Duration::minutes(RETRY)),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!(guild, error = %e, "meetings failed");
                            next = next.min(now + Duration::minutes(RETRY));
                        }
                    }
                }
                if let Some(at) = super::meetings::next_due(&self.store, now) {
                    next = next.min(at);
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the meetings"),
        }
        if !self.shards.owns_direct_messages() {
            // The upkeep is the first shard's process's; every process
            // still takes the others' erasures into its own erasure record.
            let store = self.store.clone();
            match tokio::task::spawn_blocking(move || store.share_erasures()).await {
                Ok(Ok(())) => {}
                Err(e) => tracing::error!(error = %e, "sharing erasures stopped"),
                Ok(Err(e)) => tracing::error!(error = %e, "sharing erasures failed"),
            }
            return next;
        }
        // The upkeep may rewrite the database after an erasure (paced, so it
        // takes a while): it runs where it cannot hold up the runtime.
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.maintain(now)).await {
            Ok(Ok(at)) => next = next.min(at),
            Err(e) => {
                tracing::error!(error = %e, "database upkeep stopped");
                next = next.min(now + Duration::minutes(RETRY));
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "database upkeep failed");
                next = next.min(now + Duration::minutes(RETRY));
            }
        }
        match self.tick_reviews(now).await {
            Ok(Some(at)) => next = next.min(at),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "reviews of priorities failed"),
        }
        match self.tick_reminders(now).await {
            Ok(at) => next.min(at),
            Err(e) => {
                tracing::error!(error = %e, "reminders failed");
                next.min(now + Duration::minutes(RETRY))
            }
        }
    }

    /// Sends the members' reminders that are due: at most one per member per
    /// week, never late by more than two hours, never in quiet hours.
    async fn tick_reminders(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
        let mut next = now + Duration::minutes(MAX_SLEEP_MINUTES);
        for (member, mut reminder) in self.store.reminders()? {
            let decision = decide(&reminder.rule, reminder.last_slot, now);
            next = next.min(decision.next);
            let Some(slot) = decision.post.or(decision.skipped.last().copied()) else {
                continue;
            };
            let skip = decision.post.is_none()
                || reminder.skip == Some(slot)
                || crate::schedule::in_quiet_hours(&reminder.rule, now);
            reminder.last_slot = slot;
            if reminder.skip == Some(slot) {
                reminder.skip = None;
            }
            self.store.set_reminder(member, Some(&reminder))?;
            if skip {
                continue;
            }
            let message = serenity::CreateMessage::new()
                .content(self.reminder_text(member, reminder.guild, slot))
                .allowed_mentions(no_mentions());
            match self.rest.direct_message(member, &message).await {
                Ok(_) => self.emit(SchedulerEvent::Reminded { member }),
                Err(e) => tracing::warn!(error = %e, "a reminder could not be delivered"),
            }
        }
        Ok(next)
    }

    /// Asks each member whose review of priorities is due, once: the
    /// review is marked asked before the message goes.
    async fn tick_reviews(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let (due, next) = self.store.priority_reviews_due(now)?;
        for member in due {
            if let Some(r) = self.store.priority_review(member)? {
                let asked = crate::reflections::review::Review { asked: now, ..r };
                self.store.set_priority_review(member, Some(asked))?;
            }
            let message = super::review::invitation();
            if let Err(e) = self.rest.direct_message(member, &message).await {
                tracing::warn!(error = %e, "a review of priorities could not be asked for");
            }
        }
        Ok(next)
    }

    fn reminder_text(&self, member: u64, guild: u64, slot: DateTime<Utc>) -> String {
        let current = self
            .store
            .schedule(guild)
            .ok()
            .flatten()
            .and_then(|r| r.current)
            .map(|w| w.competence);
        // A member's priorities are sealed with their key; unreadable ones
        // leave the reminder as it was.
        let priorities = self.store.priorities(member).unwrap_or_default();
        crate::schedule::reminder_words(&self.framework, current, &priorities, slot)
    }

    async fn tick_guild(
        &self,
        guild: u64,
        mut record: ScheduleRecord,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        if record.paused.is_some() {
            return Ok(now + Duration::minutes(MAX_SLEEP_MINUTES));
        }
        let decision = decide(&record.rule, record.last_slot, now);
        if let Some(last) = decision.skipped.last() {
            tracing::info!(
                guild,
                skipped = decision.skipped.len(),
                "missed slots skipped, not posted late"
            );
            record.last_slot = *last;
            self.store.set_schedule(guild, &record)?;
        }
        let Some(slot) = decision.post else {
            return Ok(decision.next);
        };
        if record.skip == Some(slot) {
            record.skip = None;
            record.last_slot = slot;
            self.store.set_schedule(guild, &record)?;
            tracing::info!(guild, "slot skipped as the group asked");
            return Ok(decision.next);
        }
        match self.post(guild, &mut record, slot).await? {
            PostOutcome::NotTaken => Ok(now + Duration::minutes(RETRY)),
            _ => Ok(decision.next),
        }
    }

    /// Posts `slot` for `guild`, and says what happened.
    pub(super) async fn post(
        &self,
        guild: u64,
        record: &mut ScheduleRecord,
        slot: DateTime<Utc>,
    ) -> Result<PostOutcome, StoreError> {
        let Some((chosen, rotation)) = self.next_for(guild, record)? else {
            return Ok(PostOutcome::NothingInScope);
        };
        let competence = match self.store.claim_slot(guild, slot, chosen)? {
            None => chosen,
            Some(SlotState::Claimed { competence }) => competence,
            Some(SlotState::Posted { .. }) => {
                record.last_slot = record.last_slot.max(slot);
                self.store.set_schedule(guild, record)?;
                return Ok(PostOutcome::AlreadyPosted);
            }
        };
        let Some(message) = self.message(competence, guild, slot) else {
            return Ok(PostOutcome::NoCard(competence));
        };
        let channel = serenity::ChannelId::new(record.channel.max(1));
        match self.rest.send_message(channel, &message).await {
            Ok(sent) => {
                let name = format!("Week of {}: {}", slot.format("%-d %b"), competence.short());
                let thread = match self.rest.create_thread(channel, sent.id, &name).await {
                    Ok(id) => Some(id),
                    Err(e) => {
                        tracing::warn!(guild, error = %e, "the discussion thread could not be opened");
                        None
                    }
                };
                self.store
                    .mark_posted(guild, slot, competence, sent.id.get())?;
                let mut rotation = if competence == chosen {
                    rotation
                } else {
                    record.rotation.clone()
                };
                if !rotation.used.contains(&competence) {
                    rotation.used.push(competence);
                }
                record.rotation = rotation;
                if slot > record.last_slot {
                    record.last_slot = slot;
                }
                record.current = Some(Week {
                    competence,
                    slot,
                    message: sent.id.get(),
                    thread,
                });
                self.store.set_schedule(guild, record)?;
                tracing::info!(guild, competence = %competence, "weekly post sent");
                self.emit(SchedulerEvent::Posted {
                    guild,
                    slot,
                    competence,
                });
                Ok(PostOutcome::Posted(competence))
            }
            Err(e) if e.is_missing_or_forbidden() => {
                record.paused = Some(pause_reason(&e));
                record.last_slot = record.last_slot.max(slot);
                self.store.set_schedule(guild, record)?;
                tracing::warn!(guild, error = %e, "schedule paused: the channel cannot be posted to");
                self.emit(SchedulerEvent::Paused { guild });
                Ok(PostOutcome::Paused)
            }
            Err(e) => {
                tracing::warn!(guild, error = %e, "weekly post failed; will retry within the grace period");
                Ok(PostOutcome::NotTaken)
            }
        }
    }

    /// The weekly post's card for a competence.
    pub fn card(&self, competence: CompetenceId) -> Option<Card> {
        crate::commands::weekly_card(&self.framework, &self.prompts, competence)
    }

    /// What the next post would carry, without using it up.
    pub fn preview(&self, guild: u64, record: &ScheduleRecord) -> Option<(CompetenceId, Card)> {
        let (id, _) = self.next_for(guild, record).ok()??;
        Some((id, self.card(id)?))
    }

    /// The competence a server's next post carries (the group's counts feed
    /// the `gaps` order; the server id seeds the shuffle).
    fn next_for(
        &self,
        guild: u64,
        record: &ScheduleRecord,
    ) -> Result<Option<(CompetenceId, crate::schedule::Rotation)>, StoreError> {
        let counts = self.store.group_counts(guild)?;
        Ok(next_competence(
            &self.framework,
            record.scope,
            record.order,
            &record.rotation,
            &counts,
            guild,
        ))
    }

    fn message(
        &self,
        competence: CompetenceId,
        guild: u64,
        slot: DateTime<Utc>,
    ) -> Option<serenity::CreateMessage> {
        let card = self.card(competence)?;
        let button = serenity::CreateButton::new(super::reply::custom_id::action(
            &Action::ReflectOn(competence),
        ))
        .label("Reflect privately")
        .style(serenity::ButtonStyle::Primary);
        Some(
            serenity::CreateMessage::new()
                .embed(embed(&card, card.domain))
                .components(vec![serenity::CreateActionRow::Buttons(vec![button])])
                .nonce(serenity::Nonce::String(nonce(guild, slot)))
                .enforce_nonce(true)
                .allowed_mentions(no_mentions()),
        )
    }
}

/// The message nonce for a server's slot: the same on every retry and across
/// versions (FNV-1a of server and slot), at most 25 characters.
pub fn nonce(guild: u64, slot: DateTime<Utc>) -> String {
    format!(
        "w{:016x}",
        super::rest::fnv(&[guild.to_be_bytes(), slot.timestamp().to_be_bytes()])
    )
}

fn pause_reason(e: &RestError) -> String {
    match e {
        RestError::Status { status: 404, .. } => {
            "the channel no longer exists (Discord answered 404). Choose another with `/schedule set`, then `/schedule resume`.".to_string()
        }
        RestError::Status { status: 403, .. } => {
            "the bot may not post in that channel (Discord answered 403). Give it View Channel, Send Messages and Embed Links there, then `/schedule resume`.".to_string()
        }
        other => format!("posting failed: {other}"),
    }
}
