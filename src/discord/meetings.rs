//! The group's meetings in Discord: `/meeting` (anyone: the next meeting,
//! its roles and its agenda), `/convene` (Manage Server by default; a server
//! can give it to a convenor role in its Integrations settings) and `/rota`
//! (each member for themselves). Each meeting is one of Discord's own
//! scheduled events; what is due for a server (an event to make, move or
//! remove, roles to give) is worked out by [`crate::meetings::group`] and
//! done here, one server at a time, each Discord effect kept as it lands.
//! Members are named by the names the server shows, never mentioned.

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};
use poise::serenity_prelude as serenity;
use serde_json::{Value, json};

use super::reply::{action_buttons, modal_input, no_mentions, send};
use super::rest::{Rest, RestError};
use super::{BotError, Context, Data};
use crate::commands::personal::Shareable;
use crate::commands::{Action, Reply};
use crate::meetings::coverage::{self, Quarter};
use crate::meetings::group::{self, Due, EVENT_NAME, Meetings, Place, Plan, Source};
use crate::meetings::rota::{self, Names};
use crate::meetings::series::{Nth, Occurrence};
use crate::store::Store;

/// What doing the due work for a server came to, for whoever asked.
#[derive(Debug, Default)]
pub(super) struct Synced {
    /// Something Discord refused, in words for a convenor.
    pub(super) refused: Option<String>,
    /// Whether the server's events were compared with Discord's.
    pub(super) events_checked: bool,
}

fn place_words(place: &Place) -> String {
    match place {
        Place::Voice { channel } => format!("in <#{channel}>"),
        Place::Elsewhere { location } => format!("at {location}"),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The body of a meeting's Discord event.
fn event_body(plan: &Plan, o: &Occurrence) -> Value {
    let mut body = json!({
        "name": EVENT_NAME,
        "privacy_level": 2,
        "scheduled_start_time": time(o.starts),
        "scheduled_end_time": time(plan.ends(o)),
        "description": "The group's peer supervision meeting. `/meeting` in this server shows its roles and its agenda.",
    });
    match &plan.place {
        Place::Voice { channel } => {
            body["entity_type"] = json!(2);
            body["channel_id"] = json!(channel.to_string());
        }
        Place::Elsewhere { location } => {
            body["entity_type"] = json!(3);
            body["entity_metadata"] = json!({ "location": location });
        }
    }
    body
}

/// Why Discord refused an event for a meeting at `place`, for a convenor.
fn refusal(e: &RestError, place: Option<&Place>) -> String {
    match e.status() {
        Some(403) => {
            let needs = match place {
                Some(Place::Voice { channel }) => format!(
                    "the Create Events permission in this server, and View Channel and Connect in <#{channel}>, where the meeting is (give the bot's role Create Events, and let it view and connect to that channel"
                ),
                _ => {
                    "the Create Events permission in this server (give the bot's role Create Events"
                        .to_string()
                }
            };
            format!(
                "Discord did not let the bot make the meeting's event: it needs {needs}, or invite it again with the link in the README). The meetings are kept; the event is made once Discord allows it."
            )
        }
        _ => format!(
            "Discord did not take the meeting's event just now ({e}); the bot tries again within the hour."
        ),
    }
}

/// The members of the rota who are in the server, and the names it shows
/// for them (and for `also`).
async fn present(
    rest: &Rest,
    guild: u64,
    rota: &rota::Rota,
    also: &[u64],
) -> Result<(BTreeSet<u64>, Names), RestError> {
    let mut here = BTreeSet::new();
    let mut names = Names::new();
    let mut ids = rota.on_rota();
    ids.extend_from_slice(also);
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        if let Some(name) = rest.member_name(guild, id).await? {
            here.insert(id);
            names.insert(id, name);
        }
    }
    Ok((here, names))
}

/// An existing event of ours for `o` (made before a crash kept its id).
async fn adopt(rest: &Rest, guild: u64, o: &Occurrence, m: &Meetings) -> Option<u64> {
    let events = rest.events(guild).await.ok()?;
    events.iter().find_map(|e| {
        let id: u64 = e["id"].as_str()?.parse().ok()?;
        let starts = DateTime::parse_from_rfc3339(e["scheduled_start_time"].as_str()?).ok()?;
        (e["name"] == EVENT_NAME
            && starts.with_timezone(&Utc) == o.starts
            && !m.events.iter().any(|l| l.event == id))
        .then_some(id)
    })
}

/// Does what is due for one server at `now`, keeping each step as it lands;
/// with `check_events`, first takes each meeting's event Discord no longer
/// has as deleted in Discord ([`Synced::events_checked`] says whether
/// Discord answered).
pub(super) async fn sync(
    store: &Store,
    rest: &Rest,
    guild: u64,
    now: DateTime<Utc>,
    check_events: bool,
) -> Result<Synced, BotError> {
    let _one_at_a_time = store.hold_meetings().await?;
    let events_checked = check_events && check_events_held(store, rest, guild, now).await?;
    let synced = sync_held(store, rest, guild, now).await?;
    Ok(Synced {
        events_checked,
        ..synced
    })
}

/// [`sync`] for a caller that already holds the server's meetings lock.
async fn sync_held(
    store: &Store,
    rest: &Rest,
    guild: u64,
    now: DateTime<Utc>,
) -> Result<Synced, BotError> {
    let mut m = store.meetings(guild)?;
    // Counted before the tidy lets go of the items of meetings that ended.
    if let Some(tallied) = group::tally(&m, now, |member, q| store.tally_tag(guild, member, q)) {
        store.set_meetings(guild, &m, &tallied)?;
        m = tallied;
    }
    if let Some(tidied) = group::tidy(&m, now) {
        store.set_meetings(guild, &m, &tidied)?;
        m = tidied;
    }
    let mut synced = Synced::default();
    for due in group::due(&m, now) {
        let next = match due {
            Due::Create(o) => {
                let Some(plan) = &m.plan else { continue };
                let made = match adopt(rest, guild, &o, &m).await {
                    Some(id) => Ok(id),
                    None => rest.create_event(guild, &event_body(plan, &o)).await,
                };
                match made {
                    Ok(id) => group::linked(&m, &o, id),
                    Err(e) => {
                        tracing::warn!(guild, error = %e, "meeting event not made");
                        synced.refused = Some(refusal(&e, Some(&plan.place)));
                        continue;
                    }
                }
            }
            Due::Retime { event, occurrence } => {
                let Some(plan) = &m.plan else { continue };
                let body = json!({
                    "scheduled_start_time": time(occurrence.starts),
                    "scheduled_end_time": time(plan.ends(&occurrence)),
                });
                match rest.edit_event(guild, event, &body).await {
                    Ok(()) => group::retimed(&m, event, occurrence.starts),
                    // Gone from Discord: made again for its new time.
                    Err(RestError::Status { status: 404, .. }) => group::unlinked(&m, event),
                    Err(e) => {
                        synced.refused = Some(refusal(&e, Some(&plan.place)));
                        continue;
                    }
                }
            }
            Due::Remove(linked) => match rest.delete_event(guild, linked.event).await {
                // Already gone from Discord (deleted by hand, or by an
                // earlier pass whose record was not kept): nothing to remove.
                Ok(()) | Err(RestError::Status { status: 404, .. }) => {
                    group::unlinked(&m, linked.event)
                }
                Err(e) => {
                    synced.refused = Some(refusal(&e, m.plan.as_ref().map(|p| &p.place)));
                    continue;
                }
            },
            Due::Allocate(o) => {
                let (here, names) = match present(rest, guild, &m.rota, &[]).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(guild, error = %e, "cannot check who is in the server; roles wait");
                        continue;
                    }
                };
                let (next, words) = group::allocated(&m, &o, &here, &names);
                store.set_meetings(guild, &m, &next)?;
                m = next;
                if let Some(plan) = &m.plan {
                    post(rest, plan.channel, &words).await;
                }
                continue;
            }
            Due::OpenAgenda { occurrence, post } => {
                m = open_agenda(store, rest, guild, m, &occurrence, post, now).await?;
                continue;
            }
            Due::Remind { member, occurrence } => {
                let Some(plan) = &m.plan else { continue };
                // Kept first: a reminder is sent at most once, even across a crash.
                let next = group::reminded(&m, member, &occurrence);
                store.set_meetings(guild, &m, &next)?;
                let words =
                    group::reminder_words(&m, member, &occurrence, &place_words(&plan.place));
                let message = serenity::CreateMessage::new()
                    .content(words)
                    .allowed_mentions(no_mentions());
                if let Err(e) = rest.direct_message(member, &message).await {
                    tracing::warn!(error = %e, "a meeting reminder was not delivered");
                }
                m = next;
                continue;
            }
            Due::LogNote { occurrence, thread } => {
                let Some(plan) = &m.plan else { continue };
                let choices = group::log_choices(plan, &occurrence);
                // The same nonce on every try: should the note be posted
                // but not kept (a crash), Discord gives back the post it
                // made rather than making another.
                let message = serenity::CreateMessage::new()
                    .content(crate::render::fit(
                        &group::log_note_words(&m, &occurrence),
                        2000,
                    ))
                    .components(vec![action_buttons(&[Action::LogMeeting(choices)])])
                    .nonce(serenity::Nonce::String(log_note_nonce(guild, &occurrence)))
                    .enforce_nonce(true)
                    .allowed_mentions(no_mentions());
                let channel = serenity::ChannelId::new(thread.max(1));
                if let Err(e) = rest.send_message(channel, &message).await {
                    // Kept as made all the same: the note is an offer,
                    // tried once, and never posted twice.
                    tracing::warn!(guild, error = %e, "a meeting's log note was not posted");
                }
                group::log_noted(&m, &occurrence)
            }
        };
        store.set_meetings(guild, &m, &next)?;
        m = next;
    }
    Ok(synced)
}

/// Discord's answer to a second thread on one message: the thread an
/// earlier try made, whose answer was lost.
const THREAD_ALREADY_MADE: u64 = 160_004;

/// The nonce of `o`'s opening post: the same on every try of one post, so
/// Discord keeps one (`enforce_nonce`), and another for a post made again
/// once `gone` was found deleted.
fn agenda_nonce(guild: u64, o: &Occurrence, gone: Option<u64>) -> String {
    let starts = o.starts.timestamp().to_be_bytes();
    let gone = gone.unwrap_or(0).to_be_bytes();
    format!(
        "a{:016x}",
        super::rest::fnv(&[guild.to_be_bytes(), starts, gone])
    )
}

/// The nonce of `o`'s log note, the same on every try.
fn log_note_nonce(guild: u64, o: &Occurrence) -> String {
    let starts = o.starts.timestamp().to_be_bytes();
    format!(
        "l{:016x}",
        super::rest::fnv(&[guild.to_be_bytes(), starts, *b"log-note"])
    )
}

/// Opens `o`'s agenda: its thread made from the opening post already made
/// (`post`), or from a new post when there is none or Discord no longer has
/// it (at most one new post a pass). Each step is kept as it lands; a
/// failure is kept too, and the core says when to try again.
async fn open_agenda(
    store: &Store,
    rest: &Rest,
    guild: u64,
    mut m: Meetings,
    o: &Occurrence,
    mut post: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Meetings, BotError> {
    let Some(plan) = m.plan.clone() else {
        return Ok(m);
    };
    let channel = serenity::ChannelId::new(plan.channel.max(1));
    let local = o.starts.with_timezone(&plan.series.zone());
    let name = format!("Agenda: meeting of {}", local.format("%-d %B %Y"));
    let mut posted_now = false;
    let mut gone = None;
    let next = loop {
        let id = match post {
            Some(id) => id,
            None => {
                let message = serenity::CreateMessage::new()
                    .content(crate::render::fit(
                        &group::agenda_opening_words(&m, o),
                        2000,
                    ))
                    .nonce(serenity::Nonce::String(agenda_nonce(guild, o, gone)))
                    .enforce_nonce(true)
                    .allowed_mentions(no_mentions());
                match rest.send_message(channel, &message).await {
                    Ok(sent) => {
                        let id = sent.id.get();
                        let next = group::agenda_posted(&m, o, id, now);
                        store.set_meetings(guild, &m, &next)?;
                        m = next;
                        posted_now = true;
                        id
                    }
                    Err(e) => {
                        tracing::warn!(guild, error = %e, "agenda not posted");
                        break group::agenda_not_opened(&m, o, None, now);
                    }
                }
            }
        };
        let message = serenity::MessageId::new(id.max(1));
        match rest.create_thread(channel, message, &name).await {
            Ok(thread) => break group::agenda_opened(&m, o, thread),
            // A thread started from a message has the message's id.
            Err(e) if e.code() == Some(THREAD_ALREADY_MADE) => {
                break group::agenda_opened(&m, o, id);
            }
            // The post is gone (deleted meanwhile): posted again, once.
            Err(e) if e.status() == Some(404) && !posted_now => {
                tracing::warn!(guild, error = %e, "agenda post gone; posting it again");
                post = None;
                gone = Some(id);
            }
            Err(e) => {
                tracing::warn!(guild, error = %e, "agenda thread not opened");
                let kept = (e.status() != Some(404)).then_some(id);
                break group::agenda_not_opened(&m, o, kept, now);
            }
        }
    };
    store.set_meetings(guild, &m, &next)?;
    Ok(next)
}

/// Posts words to the group's channel, mentioning no one.
async fn post(rest: &Rest, channel: u64, words: &str) {
    let message = serenity::CreateMessage::new()
        .content(crate::render::fit(words, 2000))
        .allowed_mentions(no_mentions());
    if let Err(e) = rest
        .send_message(serenity::ChannelId::new(channel.max(1)), &message)
        .await
    {
        tracing::warn!(channel, error = %e, "meeting notice not posted");
    }
}

/// The earliest moment something may fall due for any server after `now`.
pub(super) fn next_due(store: &Store, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let all = store.all_meetings().ok()?;
    all.iter()
        .filter_map(|(_, m)| group::next_moment(m, now))
        .min()
}

/// A Discord event deleted in Discord: its meeting is cancelled here too,
/// and the group is told.
pub(super) async fn event_deleted(
    store: &Store,
    rest: &Rest,
    guild: u64,
    event: u64,
    now: DateTime<Utc>,
) -> Result<(), BotError> {
    let _one_at_a_time = store.hold_meetings().await?;
    event_deleted_held(store, rest, guild, event, now).await
}

/// [`event_deleted`] for a caller that already holds the meetings lock.
async fn event_deleted_held(
    store: &Store,
    rest: &Rest,
    guild: u64,
    event: u64,
    now: DateTime<Utc>,
) -> Result<(), BotError> {
    let m = store.meetings(guild)?;
    let Some((next, words)) = group::event_deleted(&m, event, now) else {
        return Ok(());
    };
    store.set_meetings(guild, &m, &next)?;
    if let Some(plan) = &next.plan {
        post(rest, plan.channel, &words).await;
    }
    Ok(())
}

/// The server's events of meetings still to come that Discord no longer
/// has, each done as [`event_deleted`] does: deleted while the bot was not
/// connected, Discord never told it. Only when Discord listed the server's
/// events and then said of each missing one that it knows no such event;
/// whatever else it answers changes nothing, and `false` says the check is
/// owed. An event the bot removed itself is no longer linked, so it is
/// never said twice.
async fn check_events_held(
    store: &Store,
    rest: &Rest,
    guild: u64,
    now: DateTime<Utc>,
) -> Result<bool, BotError> {
    let m = store.meetings(guild)?;
    let ours: Vec<u64> = m
        .events
        .iter()
        .map(|l| l.event)
        .filter(|&event| group::event_deleted(&m, event, now).is_some())
        .collect();
    if ours.is_empty() {
        return Ok(true);
    }
    let listed = match rest.events(guild).await {
        Ok(listed) => listed,
        Err(e) => {
            tracing::warn!(guild, error = %e, "cannot list the server's events; none taken as deleted");
            return Ok(false);
        }
    };
    let listed: BTreeSet<u64> = listed
        .iter()
        .filter_map(|e| e["id"].as_str()?.parse().ok())
        .collect();
    let mut checked = true;
    for event in ours.into_iter().filter(|e| !listed.contains(e)) {
        match rest.event_exists(guild, event).await {
            Ok(true) => {}
            Ok(false) => event_deleted_held(store, rest, guild, event, now).await?,
            Err(e) => {
                tracing::warn!(guild, error = %e, "cannot ask Discord for a meeting's event; not taken as deleted");
                checked = false;
            }
        }
    }
    Ok(checked)
}

fn guild_of(ctx: Context<'_>) -> Result<u64, BotError> {
    ctx.guild_id()
        .map(|g| g.get())
        .ok_or_else(|| BotError::User("Meetings belong to a server; use this there.".into()))
}

/// The next meeting: when, where, its roles and its agenda
#[poise::command(slash_command, guild_only)]
pub async fn meeting(ctx: Context<'_>) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let data = ctx.data();
    // Names are asked of Discord member by member: acknowledged first.
    ctx.defer_ephemeral().await?;
    let m = data.store.meetings(guild)?;
    let (_, names) = present(&data.rest, guild, &m.rota, &[])
        .await
        .unwrap_or_default();
    let place = m
        .plan
        .as_ref()
        .map(|p| place_words(&p.place))
        .unwrap_or_default();
    let words = group::view(&m, &names, &place, data.clock.now());
    send(ctx, &Reply::private_text(words)).await
}

/// How often meetings repeat each month.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Monthly {
    /// The first of the month.
    #[name = "first"]
    First,
    /// The second.
    #[name = "second"]
    Second,
    /// The third.
    #[name = "third"]
    Third,
    /// The fourth.
    #[name = "fourth"]
    Fourth,
    /// The last.
    #[name = "last"]
    Last,
}

impl From<Monthly> for Nth {
    fn from(m: Monthly) -> Nth {
        match m {
            Monthly::First => Nth::First,
            Monthly::Second => Nth::Second,
            Monthly::Third => Nth::Third,
            Monthly::Fourth => Nth::Fourth,
            Monthly::Last => Nth::Last,
        }
    }
}

/// The group's meetings, for its convenor
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    subcommands("set", "cancel", "move_meeting", "stop", "convene_view"),
    subcommand_required
)]
pub async fn convene(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// The group's coverage of the framework this quarter, never per member
#[poise::command(slash_command, guild_only, rename = "view")]
pub async fn convene_view(ctx: Context<'_>) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let data = ctx.data();
    // Every member's reflections are read to count them: acknowledged first.
    ctx.defer_ephemeral().await?;
    let m = data.store.meetings(guild)?;
    let zone = m
        .plan
        .as_ref()
        .map_or(crate::schedule::DEFAULT_TZ, |p| p.series.zone());
    let quarter = Quarter::at(data.clock.now(), zone);
    let (from, to) = quarter.bounds(zone);
    let areas = data.store.areas_reflected_on(guild, from, to)?;
    let tally = m.tallies.iter().find(|t| t.quarter == Some(quarter));
    let words = coverage::view(&data.framework, quarter, tally, &areas);
    send(ctx, &Reply::private_text(crate::render::fit(&words, 2000))).await
}

/// Changes the server's meetings with `change`, does what is due, and
/// tells the convenor both.
async fn change(
    ctx: Context<'_>,
    tell_group: bool,
    change: impl FnOnce(&Meetings, DateTime<Utc>) -> Result<(Meetings, String), String>,
) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let data = ctx.data();
    ctx.defer_ephemeral().await?;
    let now = data.clock.now();
    // The change and what it makes due in Discord are done under one hold
    // of the lock: otherwise the scheduler could act on the change first,
    // and a refusal it met would not reach the convenor.
    let (words, channel, synced) = {
        let _one_at_a_time = data.store.hold_meetings().await?;
        let m = data.store.meetings(guild)?;
        let (next, words) = change(&m, now).map_err(BotError::User)?;
        data.store.set_meetings(guild, &m, &next)?;
        let channel = next.plan.as_ref().map(|p| p.channel);
        let synced = sync_held(&data.store, &data.rest, guild, now).await?;
        (words, channel, synced)
    };
    // A meeting cancelled or moved is the group's news, not only the
    // convenor's: said where the meetings were set, pinging no one.
    if let (true, Some(channel)) = (tell_group, channel) {
        post(&data.rest, channel, &words).await;
    }
    data.scheduler.changed();
    let words = match synced.refused {
        Some(refused) => format!("{words}\n{refused}"),
        None => words,
    };
    send(ctx, &Reply::private_text(words)).await
}

/// Set the group's meetings: the first date and time, how they repeat, where
#[poise::command(slash_command, guild_only)]
// A slash command's parameters are its Discord options, one each.
#[allow(clippy::too_many_arguments)]
pub async fn set(
    ctx: Context<'_>,
    #[description = "The first meeting's date, YYYY-MM-DD"]
    #[max_length = 10]
    date: String,
    #[description = "Local time, HH:MM on the 24-hour clock, e.g. 18:30"]
    #[max_length = 5]
    time: String,
    #[description = "Time zone (default Europe/London)"]
    #[autocomplete = "super::schedule_commands::autocomplete_zone"]
    #[max_length = 64]
    timezone: Option<String>,
    #[description = "Weeks between meetings (0: one meeting only; default 4)"]
    #[min = 0]
    #[max = 12]
    every_weeks: Option<u8>,
    #[description = "Or monthly, on this weekday of the month"] monthly: Option<Monthly>,
    #[description = "A voice channel to meet in"]
    #[channel_types("Voice")]
    voice: Option<serenity::ChannelId>,
    #[description = "Or a place: a room, an address or a video link"]
    #[max_length = 100]
    place: Option<String>,
    #[description = "Minutes each meeting lasts (default 90)"]
    #[min = 15]
    #[max = 480]
    minutes: Option<u16>,
    #[description = "Presenters at each meeting (default 1)"]
    #[min = 0]
    #[max = 8]
    presenters: Option<u8>,
    #[description = "Days before each meeting its agenda opens (default 7)"]
    #[min = 1]
    #[max = 28]
    agenda_days: Option<u8>,
) -> Result<(), BotError> {
    let channel = ctx.channel_id().get();
    change(ctx, false, |m, now| {
        let repeat = group::repeat_of(every_weeks, monthly.map(Nth::from))?;
        let setting = group::Setting {
            date: &date,
            time: &time,
            zone: timezone.as_deref(),
            repeat,
            voice: voice.map(|v| v.get()),
            location: place.as_deref(),
            minutes,
            presenters,
            agenda_days,
            channel,
        };
        group::set(m, &setting, now)
    })
    .await
}

/// Cancel one meeting, named by its date
#[poise::command(slash_command, guild_only)]
pub async fn cancel(
    ctx: Context<'_>,
    #[description = "The meeting's date, YYYY-MM-DD"]
    #[max_length = 10]
    date: String,
) -> Result<(), BotError> {
    change(ctx, true, |m, now| group::cancel(m, &date, now)).await
}

/// Move one meeting to another date and time
#[poise::command(slash_command, guild_only, rename = "move")]
pub async fn move_meeting(
    ctx: Context<'_>,
    #[description = "The meeting's date, YYYY-MM-DD"]
    #[max_length = 10]
    date: String,
    #[description = "Its new date, YYYY-MM-DD"]
    #[max_length = 10]
    to_date: String,
    #[description = "Its new local time, HH:MM"]
    #[max_length = 5]
    to_time: String,
) -> Result<(), BotError> {
    change(ctx, true, |m, now| {
        group::move_meeting(m, &date, &to_date, &to_time, now)
    })
    .await
}

/// Stop the meetings (the rota and its history stay)
#[poise::command(slash_command, guild_only)]
pub async fn stop(ctx: Context<'_>) -> Result<(), BotError> {
    change(ctx, false, group::stop).await
}

/// The fair rota of presenters, facilitator and timekeeper
#[poise::command(
    slash_command,
    guild_only,
    subcommands("join", "leave", "pass", "swap", "show"),
    subcommand_required
)]
pub async fn rota(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Changes the rota for the member who asked, with who is in the server.
/// The member is answered privately; a change the group relies on is also
/// posted in the channel, by name, pinging no one.
async fn rota_change(
    ctx: Context<'_>,
    other: Option<u64>,
    change: impl FnOnce(&Meetings, &BTreeSet<u64>, &Names, DateTime<Utc>) -> (Meetings, String, bool),
) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let member = ctx.author().id.get();
    let data = ctx.data();
    ctx.defer_ephemeral().await?;
    let (words, changed) = {
        let _one_at_a_time = data.store.hold_meetings().await?;
        let m = data.store.meetings(guild)?;
        let mut also = vec![member];
        also.extend(other);
        let (here, names) = present(&data.rest, guild, &m.rota, &also)
            .await
            .map_err(|_| BotError::User("Discord could not say who is in the server just now, so the rota was not changed. Please try again in a minute.".into()))?;
        let (next, words, changed) = change(&m, &here, &names, data.clock.now());
        if changed {
            data.store.set_meetings(guild, &m, &next)?;
        }
        (words, changed)
    };
    if changed {
        data.scheduler.changed();
        post(&data.rest, ctx.channel_id().get(), &words).await;
    }
    send(ctx, &Reply::private_text(words)).await
}

fn outcome(m: &Meetings, o: rota::Outcome) -> (Meetings, String, bool) {
    let mut next = m.clone();
    next.rota = o.rota;
    (next, o.words, o.changed)
}

/// Join the rota: roles go to whoever has gone longest without them
#[poise::command(slash_command, guild_only)]
pub async fn join(ctx: Context<'_>) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    rota_change(ctx, None, |m, _, names, _| {
        outcome(m, rota::join(&m.rota, member, names))
    })
    .await
}

/// Leave the rota; your history is kept in case you come back
#[poise::command(slash_command, guild_only)]
pub async fn leave(ctx: Context<'_>) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    rota_change(ctx, None, |m, here, names, now| {
        outcome(m, rota::leave(&m.rota, member, here, now, names))
    })
    .await
}

/// Pass on your role at the next meeting; you stay first in line for it
#[poise::command(slash_command, guild_only)]
pub async fn pass(ctx: Context<'_>) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    rota_change(ctx, None, |m, here, names, now| {
        outcome(m, rota::pass(&m.rota, member, here, now, names))
    })
    .await
}

/// Offer to swap your role at the next meeting with another member's
#[poise::command(slash_command, guild_only)]
pub async fn swap(
    ctx: Context<'_>,
    #[description = "The member to swap roles with"] with: serenity::User,
) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    let other = with.id.get();
    rota_change(ctx, Some(other), |m, _, names, now| {
        group::offer_swap(m, member, other, now, names)
    })
    .await
}

/// Who is on the rota, and the roles at the next meeting
#[poise::command(slash_command, guild_only)]
pub async fn show(ctx: Context<'_>) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let data = ctx.data();
    // Names are asked of Discord member by member: acknowledged first.
    ctx.defer_ephemeral().await?;
    let m = data.store.meetings(guild)?;
    let (_, names) = present(&data.rest, guild, &m.rota, &[])
        .await
        .unwrap_or_default();
    let words = format!(
        "{}\n{}",
        rota::on_rota_words(&m.rota, &names),
        rota::describe(&m.rota, &names)
    );
    send(ctx, &Reply::private_text(words)).await
}

/// The next meeting's agenda: bring an item, share it, be reminded
#[poise::command(
    slash_command,
    guild_only,
    subcommands(
        "agenda_show",
        "bring",
        "withdraw",
        "agenda_share",
        "remind",
        "remind_off"
    ),
    subcommand_required
)]
pub async fn agenda(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// The member's own change to the server's meetings, answered privately.
async fn own_change(
    ctx: Context<'_>,
    change: impl FnOnce(&Meetings, DateTime<Utc>) -> Result<(Meetings, String), String>,
) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let data = ctx.data();
    let words = {
        let _one_at_a_time = data.store.hold_meetings().await?;
        let m = data.store.meetings(guild)?;
        let (next, words) = change(&m, data.clock.now()).map_err(BotError::User)?;
        if next != m {
            data.store.set_meetings(guild, &m, &next)?;
        }
        words
    };
    data.scheduler.changed();
    send(ctx, &Reply::private_text(words)).await
}

/// What is on the next meeting's agenda
#[poise::command(slash_command, guild_only, rename = "show")]
pub async fn agenda_show(ctx: Context<'_>) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let data = ctx.data();
    let m = data.store.meetings(guild)?;
    let words = group::agenda_view(&m, data.clock.now());
    send(ctx, &Reply::private_text(words)).await
}

/// Bring an item to the next meeting; the agenda shows only what you choose
#[poise::command(slash_command, guild_only)]
pub async fn bring(
    ctx: Context<'_>,
    #[description = "Minutes you ask for (5 to 120)"]
    #[min = 5]
    #[max = 120]
    minutes: u16,
    #[description = "What the agenda shows (default: an item from a member)"]
    #[max_length = 80]
    show_as: Option<String>,
    #[description = "The number of your reflection it comes from, if any"]
    #[min = 1]
    reflection: Option<u64>,
    #[description = "Or the number of your case presentation it comes from"]
    #[min = 1]
    presentation: Option<u64>,
) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    let from = Source::of(reflection, presentation).map_err(BotError::User)?;
    let data = ctx.data();
    own_change(ctx, |m, now| {
        // Looked for under the meetings lock, which forget-me holds while
        // it erases: an item is never brought from what was just erased.
        if let Some(from) = from {
            match has(data, member, from) {
                Ok(true) => {}
                Ok(false) => return Err(none_such(from)),
                Err(e) => {
                    tracing::error!(error = %e, "an item could not be brought");
                    return Err(
                        "The item could not be brought just now; try again in a moment.".into(),
                    );
                }
            }
        }
        group::bring(m, member, minutes, show_as.as_deref(), from, now)
    })
    .await
}

/// Whether `member` has what `from` names.
fn has(data: &Data, member: u64, from: Source) -> Result<bool, crate::store::StoreError> {
    match from {
        Source::Reflection(n) => data.store.has_reflection(member, n),
        Source::Presentation(n) => Ok(data.store.presentation(member, n)?.is_some()),
    }
}

/// The refusal when `member` has no such reflection or presentation.
fn none_such(from: Source) -> String {
    match from {
        Source::Reflection(n) => {
            format!(
                "You have no reflection #{n}: `/reflections list` lists yours. Nothing was brought."
            )
        }
        Source::Presentation(n) => format!(
            "You have no case presentation #{n}: `/present list` lists yours. Nothing was brought."
        ),
    }
}

/// Take your item off the next meeting's agenda
#[poise::command(slash_command, guild_only)]
pub async fn withdraw(ctx: Context<'_>) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    own_change(ctx, |m, now| {
        let (next, words, _) = group::withdraw_item(m, member, now);
        Ok((next, words))
    })
    .await
}

/// Preview sharing what you brought into the meeting's thread
#[poise::command(slash_command, guild_only, rename = "share")]
pub async fn agenda_share(ctx: Context<'_>) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let member = ctx.author().id.get();
    let data = ctx.data();
    let m = data.store.meetings(guild)?;
    let reply = match group::brought(&m, member, data.clock.now()) {
        None => Reply::user_error("You have no item on the next meeting's agenda: `/agenda bring` brings one, with the reflection or case presentation it comes from.".into()),
        Some((item, thread, _)) => {
            let what = match (item.reflection, item.presentation) {
                (Some(n), _) => Some(Shareable::Reflection(n)),
                (None, Some(n)) => Some(Shareable::Presentation(n)),
                (None, None) => None,
            };
            match (what, thread) {
                (None, _) => Reply::user_error("Your item names nothing of yours, so there is nothing to share: bring it again with `reflection:` or `presentation:` and its number.".into()),
                (Some(_), None) => super::sharing::no_agenda_thread(),
                (Some(what), Some(_)) => super::sharing::ask(data, member, Some(guild), what)?,
            }
        }
    };
    send(ctx, &reply).await
}

/// Be reminded of each meeting by direct message
#[poise::command(slash_command, guild_only)]
pub async fn remind(
    ctx: Context<'_>,
    #[description = "Hours before each meeting (1 to 168)"]
    #[min = 1]
    #[max = 168]
    hours: u16,
    #[description = "Also between 21:00 and 07:00 (default: no, it comes at 20:00 before)"]
    in_quiet_hours: Option<bool>,
    #[description = "Your time zone for quiet hours (default: your /remind one, else the meetings')"]
    #[autocomplete = "super::schedule_commands::autocomplete_zone"]
    #[max_length = 64]
    timezone: Option<String>,
) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    // The member's own zone: the one given, else their weekly reminder's.
    let zone = match timezone.as_deref() {
        Some(z) => Some(
            crate::schedule::parse_zone(z)
                .map_err(|e| BotError::User(format!("{e} No reminder was set.")))?,
        ),
        None => ctx.data().store.reminder(member)?.map(|r| r.rule.zone()),
    };
    own_change(ctx, |m, _| {
        group::remind(m, member, hours, in_quiet_hours.unwrap_or(false), zone)
    })
    .await
}

/// Stop your meeting reminders
#[poise::command(slash_command, guild_only, rename = "remind-off")]
pub async fn remind_off(ctx: Context<'_>) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    own_change(ctx, |m, _| {
        let (next, words, _) = group::remind_off(m, member);
        Ok((next, words))
    })
    .await
}

/// The custom id of the form a reflection's Bring button opens, before
/// the reflection's number.
const BRING_FORM: &str = "bring:";
/// The custom id of the form a case presentation's Bring button opens,
/// before the presentation's number.
const BRING_PRESENTATION_FORM: &str = "bring-presentation:";

/// Whether a submitted form's custom id is a Bring form's.
pub(super) fn is_bring_form(custom_id: &str) -> bool {
    bring_form_source(custom_id).is_some()
}

/// What a Bring form's custom id names.
fn bring_form_source(custom_id: &str) -> Option<Source> {
    let number = |n: &str| n.parse::<u64>().ok().filter(|n| *n > 0);
    if let Some(n) = custom_id.strip_prefix(BRING_FORM) {
        number(n).map(Source::Reflection)
    } else {
        custom_id
            .strip_prefix(BRING_PRESENTATION_FORM)
            .and_then(number)
            .map(Source::Presentation)
    }
}

/// The form the Bring button on `member`'s reflection or case presentation
/// opens: the time asked for and what the agenda shows. Or the reply that
/// says why there is nothing to bring it to.
pub(super) fn bring_form(
    data: &Data,
    member: u64,
    guild: Option<u64>,
    from: Source,
) -> Result<Result<serenity::CreateModal, Reply>, BotError> {
    let Some(guild) = guild else {
        return Ok(Err(Reply::user_error(
            "Items are brought to a server's meetings: use the button in the server. Nothing was brought.".into(),
        )));
    };
    if !has(data, member, from)? {
        return Ok(Err(Reply::user_error(none_such(from))));
    }
    if let Err(words) = group::agenda_open(&data.store.meetings(guild)?, data.clock.now()) {
        return Ok(Err(Reply::user_error(format!(
            "{words} Nothing was brought."
        ))));
    }
    let minutes = serenity::CreateInputText::new(
        serenity::InputTextStyle::Short,
        "Minutes you ask for (5 to 120)",
        "minutes",
    )
    .required(true)
    .max_length(3)
    .placeholder("20");
    let label = serenity::CreateInputText::new(
        serenity::InputTextStyle::Short,
        "What the agenda shows (optional)",
        "show_as",
    )
    .required(false)
    .max_length(group::MAX_LABEL as u16)
    .placeholder("Left empty: \"an item from a member\"");
    let (id, title) = match from {
        Source::Reflection(n) => (
            format!("{BRING_FORM}{n}"),
            format!("Bring #{n} to the next meeting"),
        ),
        Source::Presentation(n) => (
            format!("{BRING_PRESENTATION_FORM}{n}"),
            format!("Bring presentation #{n} to the meeting"),
        ),
    };
    Ok(Ok(serenity::CreateModal::new(
        id,
        crate::render::fit(&title, 45),
    )
    .components(vec![
        serenity::CreateActionRow::InputText(minutes),
        serenity::CreateActionRow::InputText(label),
    ])))
}

/// A submitted Bring form: the item on the agenda, or the reason it is not
/// there with every word typed given back.
pub(super) async fn bring_submitted(
    ctx: &serenity::Context,
    submit: &serenity::ModalInteraction,
    data: &Data,
) -> Result<(), BotError> {
    let member = submit.user.id.get();
    let from = bring_form_source(&submit.data.custom_id);
    let field = |id: &str| modal_input(submit, id).unwrap_or_default();
    let (minutes, label) = (field("minutes"), field("show_as"));
    super::in_time::answer_form(ctx, submit, async {
        match (from, submit.guild_id) {
            (Some(from), Some(guild)) => {
                bring_from_form(data, guild.get(), member, from, &minutes, &label)
                    .await
                    .unwrap_or_else(Reply::user_error)
            }
            _ => Reply::user_error(
                "That form is not one this bot can answer any more. Nothing was brought.".into(),
            ),
        }
    })
    .await
}

/// Brings the reflection or presentation `from` as the form asked, or says
/// why not, giving back what the agenda would have shown.
async fn bring_from_form(
    data: &Data,
    guild: u64,
    member: u64,
    from: Source,
    minutes: &str,
    label: &str,
) -> Result<Reply, String> {
    let typed = if label.trim().is_empty() {
        String::new()
    } else {
        format!(" What you wrote for the agenda: {}", label.trim())
    };
    let minutes: u16 = minutes.trim().parse().map_err(|_| {
        format!(
            "The minutes must be a whole number from {} to {}; “{}” is not. Nothing was brought.{typed}",
            group::ITEM_MINUTES.start(),
            group::ITEM_MINUTES.end(),
            minutes.trim()
        )
    })?;
    let unsaved = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "an item could not be brought");
        format!("The item could not be brought just now; try again in a moment.{typed}")
    };
    let label = Some(label).filter(|l| !l.trim().is_empty());
    let words = {
        let _one_at_a_time = data.store.hold_meetings().await.map_err(unsaved)?;
        // Looked for under the meetings lock, which forget-me holds while
        // it erases: an item is never brought from what was just erased.
        if !has(data, member, from).map_err(unsaved)? {
            return Err(format!("{}{typed}", none_such(from)));
        }
        let m = data.store.meetings(guild).map_err(unsaved)?;
        let (next, words) = group::bring(&m, member, minutes, label, Some(from), data.clock.now())
            .map_err(|w| {
                if w.contains("You wrote:") {
                    w
                } else {
                    format!("{w}{typed}")
                }
            })?;
        if next != m {
            data.store.set_meetings(guild, &m, &next).map_err(unsaved)?;
        }
        words
    };
    data.scheduler.changed();
    Ok(Reply::private_text(words))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every `` `/command …` `` written in the files under `dir` (outside
    /// comments and test modules), with where it is.
    fn references(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                references(&path, out);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs") || name == "tests.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            for (n, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for piece in line.split("`/").skip(1) {
                    if let Some((inside, _)) = piece.split_once('`') {
                        out.push((format!("{}:{}", path.display(), n + 1), inside.into()));
                    }
                }
            }
        }
    }

    /// Whether `reference` (`agenda remind hours:24`) names a registered
    /// command, its subcommand when it has them, and only options it takes.
    fn names_a_command(
        commands: &[poise::Command<Data, BotError>],
        reference: &str,
    ) -> Result<(), String> {
        let mut words = reference.split_whitespace();
        let name = words.next().unwrap_or_default();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            // A name filled in when the words are made (`/{}`).
            return Ok(());
        }
        let mut command = commands
            .iter()
            .find(|c| c.name == name)
            .ok_or(format!("there is no /{name}"))?;
        if !command.subcommands.is_empty() {
            let sub = words.next().unwrap_or_default();
            command = command
                .subcommands
                .iter()
                .find(|s| s.name == sub)
                .ok_or(format!("/{name} has no subcommand {sub:?}"))?;
        }
        for option in words {
            let known = match option.split_once(':') {
                Some((option, _)) => command.parameters.iter().any(|p| p.name == option),
                // A value as typed for the command's one option.
                None => !command.parameters.is_empty(),
            };
            if !known {
                return Err(format!("/{} takes no {option:?}", command.qualified_name));
            }
        }
        Ok(())
    }

    #[test]
    fn every_command_the_meetings_and_discord_words_name_is_registered() {
        let commands = super::super::all_commands();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        // The words Discord shows (the shared commands' words also name the
        // console's own commands, so they are not read here).
        for dir in ["meetings", "discord", "schedule", "reflections"] {
            references(&root.join(dir), &mut found);
        }
        assert!(found.len() > 20, "the scan finds the words: {found:?}");
        let wrong: Vec<String> = found
            .iter()
            .filter_map(|(at, r)| {
                names_a_command(&commands, r)
                    .err()
                    .map(|e| format!("{at}: `/{r}`: {e}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
        // The check itself tells a wrong name, subcommand or option.
        for bad in [
            "meeting set",
            "convene",
            "convene start",
            "agenda remind days:3",
            "nothing",
        ] {
            assert!(names_a_command(&commands, bad).is_err(), "{bad}");
        }
        for good in [
            "convene set",
            "agenda remind hours:24",
            "competence 3.5",
            "meeting",
        ] {
            assert_eq!(names_a_command(&commands, good), Ok(()), "{good}");
        }
    }

    #[test]
    fn a_refused_event_names_create_events_and_for_a_voice_channel_connect() {
        let refused = RestError::Status {
            status: 403,
            message: "Missing Permissions".into(),
            code: Some(50013),
        };
        let voice = refusal(&refused, Some(&Place::Voice { channel: 7 }));
        assert!(voice.contains("Create Events"), "{voice}");
        assert!(
            voice.contains("View Channel and Connect in <#7>"),
            "{voice}"
        );
        let elsewhere = Place::Elsewhere {
            location: "Room 4".into(),
        };
        for words in [refusal(&refused, Some(&elsewhere)), refusal(&refused, None)] {
            assert!(words.contains("Create Events"), "{words}");
            assert!(
                !words.contains("Connect") && !words.contains("Manage Events"),
                "{words}"
            );
        }
    }
}
