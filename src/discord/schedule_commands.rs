//! `/schedule` (Manage Server by default) and `/week` (anyone): setting up the
//! competence of the week and seeing where it stands.

use chrono::{Duration, Weekday};
use poise::serenity_prelude as serenity;

use super::reply::send;
use super::scheduler::PostOutcome;
use super::{BotError, Context, Data};
use crate::commands::{self, Reply, Week};
use crate::schedule::{
    self, DEFAULT_TZ, Order, Rule, Scope, parse_time, parse_zone, zone_suggestions,
};
use crate::store::ScheduleRecord;

/// Day of the week.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Day {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl From<Day> for Weekday {
    fn from(d: Day) -> Weekday {
        match d {
            Day::Monday => Weekday::Mon,
            Day::Tuesday => Weekday::Tue,
            Day::Wednesday => Weekday::Wed,
            Day::Thursday => Weekday::Thu,
            Day::Friday => Weekday::Fri,
            Day::Saturday => Weekday::Sat,
            Day::Sunday => Weekday::Sun,
        }
    }
}

/// Which domains.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum ScopeChoice {
    /// Core coaching competences.
    #[name = "core"]
    Core,
    /// Competences for integrating therapy and coaching.
    #[name = "integration"]
    Integration,
    /// Both domains.
    #[name = "both"]
    Both,
}

/// In what order.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum OrderChoice {
    /// Framework order.
    #[name = "sequential"]
    Sequential,
    /// Shuffled each cycle.
    #[name = "shuffled"]
    Shuffled,
    /// What the group has reflected on least.
    #[name = "gaps"]
    Gaps,
    /// Framework order, alternating between the domains.
    #[name = "alternating"]
    Alternating,
}

fn guild_of(ctx: Context<'_>) -> Result<u64, BotError> {
    ctx.guild_id()
        .map(|g| g.get())
        .ok_or_else(|| BotError::User("Schedules belong to a server; use this there.".into()))
}

fn no_schedule() -> BotError {
    BotError::User("This server has no schedule yet: `/schedule set` starts one.".into())
}

/// The competence of the week: when and where it is posted
///
/// Discord shows `/schedule` to those with Manage Server unless a server
/// gives it to its convenor role too (Integrations settings): then the
/// convenor can see it (`show`), preview any card and choose the group's
/// next competence, while setting, pausing, resuming, skipping and posting
/// now still need Manage Server, checked here.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    subcommands(
        "set", "show", "pause", "resume", "skip", "preview", "next", "post_now"
    ),
    subcommand_required
)]
pub async fn schedule(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Post a competence every week in a channel, at a local day and time
#[poise::command(slash_command, guild_only, required_permissions = "MANAGE_GUILD")]
// A slash command's parameters are its Discord options, one each.
#[allow(clippy::too_many_arguments)]
pub async fn set(
    ctx: Context<'_>,
    #[description = "Where the weekly post goes"]
    #[channel_types("Text")]
    channel: serenity::ChannelId,
    #[description = "Day of the week"] weekday: Day,
    #[description = "Local time, HH:MM on the 24-hour clock, e.g. 09:30"]
    #[max_length = 5]
    time: String,
    #[description = "Time zone (default Europe/London)"]
    #[autocomplete = "autocomplete_zone"]
    #[max_length = 64]
    timezone: Option<String>,
    #[description = "Which domains (default both)"] domain: Option<ScopeChoice>,
    #[description = "In what order (default sequential)"] order: Option<OrderChoice>,
    #[description = "How many hours late a missed post may still go out (default 12)"]
    #[min = 0]
    #[max = 72]
    grace_hours: Option<u32>,
) -> Result<(), BotError> {
    let guild = guild_of(ctx)?;
    let data = ctx.data();
    let existing = data.store.schedule(guild)?;
    let setting = schedule::Setting {
        channel: channel.get(),
        weekday: weekday.into(),
        time: &time,
        zone: timezone.as_deref(),
        scope: domain.map_or(Scope::Both, |d| match d {
            ScopeChoice::Core => Scope::Core,
            ScopeChoice::Integration => Scope::Integration,
            ScopeChoice::Both => Scope::Both,
        }),
        order: order.map_or(Order::Sequential, |o| match o {
            OrderChoice::Sequential => Order::Sequential,
            OrderChoice::Shuffled => Order::Shuffled,
            OrderChoice::Gaps => Order::Gaps,
            OrderChoice::Alternating => Order::Alternating,
        }),
        grace_hours,
    };
    let now = data.clock.now();
    let record = schedule::set(existing.as_ref(), &setting, now)
        .map_err(|e| BotError::User(e.to_string()))?;
    data.store.set_schedule(guild, &record)?;
    data.scheduler.changed();
    send(
        ctx,
        &Reply::private_text(format!("Scheduled. {}", describe(data, &record))),
    )
    .await
}

pub(super) async fn autocomplete_zone(
    _ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let choices = zone_suggestions(partial, 25)
        .into_iter()
        .map(|z| serenity::AutocompleteChoice::new(z, z))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// The core's description of a schedule, its place a channel mention.
fn describe(data: &Data, record: &ScheduleRecord) -> String {
    schedule::describe(
        &data.framework,
        record,
        &format!("in <#{}>", record.channel),
        data.clock.now(),
    )
}

/// Show this server's schedule, the next post, and why it is paused if it is
#[poise::command(slash_command, guild_only)]
pub async fn show(ctx: Context<'_>) -> Result<(), BotError> {
    let data = ctx.data();
    let record = data
        .store
        .schedule(guild_of(ctx)?)?
        .ok_or_else(no_schedule)?;
    send(ctx, &Reply::private_text(describe(data, &record))).await
}

/// Pause the weekly posts
#[poise::command(slash_command, guild_only, required_permissions = "MANAGE_GUILD")]
pub async fn pause(ctx: Context<'_>) -> Result<(), BotError> {
    let data = ctx.data();
    let guild = guild_of(ctx)?;
    let mut record = data.store.schedule(guild)?.ok_or_else(no_schedule)?;
    let said = schedule::pause(&mut record);
    data.store.set_schedule(guild, &record)?;
    data.scheduler.changed();
    send(ctx, &Reply::private_text(said)).await
}

/// Resume the weekly posts (missed weeks are not posted)
#[poise::command(slash_command, guild_only, required_permissions = "MANAGE_GUILD")]
pub async fn resume(ctx: Context<'_>) -> Result<(), BotError> {
    let data = ctx.data();
    let guild = guild_of(ctx)?;
    let mut record = data.store.schedule(guild)?.ok_or_else(no_schedule)?;
    schedule::resume(&mut record, data.clock.now());
    data.store.set_schedule(guild, &record)?;
    data.scheduler.changed();
    send(
        ctx,
        &Reply::private_text(format!("Resumed. {}", describe(data, &record))),
    )
    .await
}

/// Skip the next weekly post
#[poise::command(slash_command, guild_only, required_permissions = "MANAGE_GUILD")]
pub async fn skip(ctx: Context<'_>) -> Result<(), BotError> {
    let data = ctx.data();
    let guild = guild_of(ctx)?;
    let mut record = data.store.schedule(guild)?.ok_or_else(no_schedule)?;
    let said = schedule::skip(&mut record, data.clock.now());
    data.store.set_schedule(guild, &record)?;
    send(ctx, &Reply::private_text(said)).await
}

/// One competence, as written for choosing: `C3.5`, `core 3.5` (not `3.5`,
/// which is in both domains).
fn one_competence(data: &Data, typed: &str) -> Result<crate::framework::CompetenceId, BotError> {
    let read = crate::reflections::form::tags(&data.framework, typed);
    match (read.kept.as_slice(), read.left_out.first()) {
        ([id], None) => Ok(*id),
        (_, Some((name, why))) => Err(BotError::User(format!(
            "{name}: {why} Name one competence, e.g. `C3.5` or `I2.1`."
        ))),
        _ => Err(BotError::User(
            "Name one competence, e.g. `C3.5` or `I2.1`.".into(),
        )),
    }
}

/// Choose the competence the group's next weekly post carries
#[poise::command(slash_command, guild_only)]
pub async fn next(
    ctx: Context<'_>,
    #[description = "The competence, e.g. C3.5 or I2.1"]
    #[autocomplete = "super::commands::autocomplete_code"]
    #[max_length = 100]
    competence: String,
) -> Result<(), BotError> {
    let data = ctx.data();
    let guild = guild_of(ctx)?;
    let id = one_competence(data, &competence)?;
    let mut record = data.store.schedule(guild)?.ok_or_else(no_schedule)?;
    let said = schedule::choose_next(&data.framework, &mut record, id).map_err(BotError::User)?;
    data.store.set_schedule(guild, &record)?;
    send(ctx, &Reply::private_text(said)).await
}

/// See the next weekly post before it goes out, or any competence's card (only you see it)
#[poise::command(slash_command, guild_only)]
pub async fn preview(
    ctx: Context<'_>,
    #[description = "A competence's weekly card instead of the next post's, e.g. C3.5"]
    #[autocomplete = "super::commands::autocomplete_code"]
    #[max_length = 100]
    competence: Option<String>,
) -> Result<(), BotError> {
    let data = ctx.data();
    if let Some(typed) = competence {
        let id = one_competence(data, &typed)?;
        let reply = commands::week(&data.framework, &data.scheduler.prompts, id, Week::Chosen);
        return send(ctx, &reply).await;
    }
    let guild = guild_of(ctx)?;
    let record = data.store.schedule(guild)?.ok_or_else(no_schedule)?;
    let (id, _) = data
        .scheduler
        .preview(guild, &record)
        .ok_or_else(|| BotError::User("There is no competence left to preview.".into()))?;
    let reply = commands::week(
        &data.framework,
        &data.scheduler.prompts,
        id,
        Week::GroupNext,
    );
    send(ctx, &reply).await
}

/// Post the next competence now, outside the weekly rhythm
#[poise::command(
    slash_command,
    guild_only,
    rename = "post-now",
    required_permissions = "MANAGE_GUILD"
)]
pub async fn post_now(ctx: Context<'_>) -> Result<(), BotError> {
    let data = ctx.data();
    let guild = guild_of(ctx)?;
    let mut record = data.store.schedule(guild)?.ok_or_else(no_schedule)?;
    ctx.defer_ephemeral().await?;
    let now = data.clock.now();
    if let Some(reason) = &record.paused {
        let text = format!(
            "Nothing was posted: the schedule is paused ({reason}). `/schedule resume` starts it again."
        );
        return send(ctx, &Reply::user_error(text)).await;
    }
    let outcome = data.scheduler.post(guild, &mut record, now).await?;
    let channel = record.channel;
    let reply = match outcome {
        PostOutcome::Posted(c) => Reply::private_text(format!(
            "Posted {} in <#{channel}>, with a thread for the discussion. The weekly posts carry on as scheduled.",
            c.short()
        )),
        PostOutcome::AlreadyPosted => Reply::private_text(
            "That post went out a moment ago; nothing more was sent.".into(),
        ),
        PostOutcome::NothingInScope => Reply::user_error(
            "Nothing was posted: the schedule's domains hold no competence in this framework. `/schedule set` with another `domain` starts a new cycle.".into(),
        ),
        PostOutcome::NoCard(c) => Reply::user_error(format!(
            "Nothing was posted: {} has no card in this framework.",
            c.short()
        )),
        PostOutcome::Paused => Reply::user_error(format!(
            "Nothing was posted: {} The schedule is paused until `/schedule resume`.",
            record.paused.as_deref().unwrap_or("the channel cannot be posted to.")
        )),
        PostOutcome::NotTaken => Reply::user_error(
            "Nothing was posted: Discord did not take the post just now. Try `/schedule post-now` again in a few minutes; the weekly posts are unaffected.".into(),
        ),
    };
    send(ctx, &reply).await
}

/// This week's competence, with its questions and practice experiment
#[poise::command(slash_command, guild_only)]
pub async fn week(ctx: Context<'_>) -> Result<(), BotError> {
    let data = ctx.data();
    let record = data.store.schedule(guild_of(ctx)?)?;
    let Some(current) = record.and_then(|r| r.current) else {
        return send(
            ctx,
            &Reply::private_text("There is no competence of the week yet. Someone with Manage Server can start one with `/schedule set`.".into()),
        )
        .await;
    };
    let stale = data.clock.now() - current.slot > Duration::days(8);
    let reply = commands::week(
        &data.framework,
        &data.scheduler.prompts,
        current.competence,
        Week::Group { stale },
    );
    send(ctx, &reply).await
}

/// A weekly nudge in your direct messages, at your own time: never a streak, always optional
#[poise::command(
    slash_command,
    guild_only,
    subcommands("remind_on", "remind_off", "remind_skip"),
    subcommand_required
)]
pub async fn remind(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Send me a reminder each week, on my day and at my time
#[poise::command(slash_command, guild_only, rename = "on")]
pub async fn remind_on(
    ctx: Context<'_>,
    #[description = "Day of the week"] weekday: Day,
    #[description = "Local time, HH:MM on the 24-hour clock (not 21:00 to 07:00)"]
    #[max_length = 5]
    time: String,
    #[description = "Your time zone (default Europe/London)"]
    #[autocomplete = "autocomplete_zone"]
    #[max_length = 64]
    timezone: Option<String>,
) -> Result<(), BotError> {
    let data = ctx.data();
    let guild = guild_of(ctx)?;
    let time = parse_time(&time).map_err(|e| BotError::User(e.to_string()))?;
    let zone = match timezone.as_deref() {
        Some(z) => parse_zone(z).map_err(|e| BotError::User(e.to_string()))?,
        None => DEFAULT_TZ,
    };
    let time = schedule::reminder_time(time).map_err(BotError::User)?;
    let rule = Rule {
        weekday: weekday.into(),
        time,
        tz: zone.name().to_string(),
        grace_hours: 2,
    };
    let now = data.clock.now();
    let next = rule.next_slot(now);
    let reminder = crate::store::Reminder {
        rule,
        guild,
        last_slot: now,
        skip: None,
    };
    data.store
        .set_reminder(ctx.author().id.get(), Some(&reminder))?;
    data.scheduler.changed();
    send(
        ctx,
        &Reply::private_text(format!(
            "I will nudge you by direct message every {} at {} ({}), starting {}. Skip a week with `/remind skip`; stop with `/remind off`.",
            schedule::weekday_name(reminder.rule.weekday),
            reminder.rule.time.format("%H:%M"),
            zone.name(),
            next.with_timezone(&zone).format("%A %-d %B")
        )),
    )
    .await
}

/// Stop my weekly reminders
#[poise::command(slash_command, guild_only, rename = "off")]
pub async fn remind_off(ctx: Context<'_>) -> Result<(), BotError> {
    ctx.data().store.set_reminder(ctx.author().id.get(), None)?;
    send(
        ctx,
        &Reply::private_text(
            "No more reminders. `/remind on` brings them back whenever you like.".into(),
        ),
    )
    .await
}

/// Skip my next reminder
#[poise::command(slash_command, guild_only, rename = "skip")]
pub async fn remind_skip(ctx: Context<'_>) -> Result<(), BotError> {
    let data = ctx.data();
    let member = ctx.author().id.get();
    let Some(mut reminder) = data.store.reminder(member)? else {
        return Err(BotError::User(
            "You have no reminder to skip. `/remind on` sets one up.".into(),
        ));
    };
    reminder.skip = Some(
        reminder
            .rule
            .next_slot(reminder.last_slot.max(data.clock.now())),
    );
    data.store.set_reminder(member, Some(&reminder))?;
    send(
        ctx,
        &Reply::private_text("Next week's reminder is skipped. Enjoy the week.".into()),
    )
    .await
}
