//! The Discord front-end: poise commands on serenity, translating Discord's
//! interactions into the core's commands and the core's replies into embeds.
//!
//! This is the only module that knows Discord. It holds no logic the console
//! does not share: commands go through [`crate::commands`], cards through
//! [`crate::render`].

mod commands;
mod events;
mod in_time;
mod meetings;
mod personal;
pub mod reply;
pub mod rest;
mod review;
mod schedule_commands;
pub mod scheduler;
mod sharing;
mod supervision;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serenity::{GatewayIntents, HttpBuilder};

use crate::clock::Clock;
use crate::inline::InlineReplies;
use crate::library::Library;
use crate::store::{Store, StoreError};

/// Everything the bot needs to start; built once from the command line.
pub struct Config {
    /// The bot token.
    pub token: String,
    /// Replaces `https://discord.com` for every REST call (a rate-limit proxy, or tests).
    pub api_url: Option<String>,
    /// Where the database lives (on PostgreSQL: the erasure record only).
    pub data_dir: PathBuf,
    /// Keep the records in this PostgreSQL database instead of the data
    /// directory (`run --database`).
    pub database: Option<crate::store::PgOptions>,
    /// Run only these gateway shards (`run --shards A-B --shard-total N`);
    /// `None` runs every shard in this process.
    pub shards: Option<crate::shards::ShardRange>,
    /// The master key's file (`--key-file`, e.g. a systemd credential);
    /// else `COMPANION_KEY`, else `master.key` in the data directory.
    pub key_file: Option<PathBuf>,
    /// The framework to serve.
    pub framework: Arc<Library>,
    /// Register commands on this server only (instant updates while developing).
    pub dev_guild: Option<u64>,
    /// Whether to ask for the privileged message content intent (inline mode).
    pub message_content: bool,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// How long one HTTP request to Discord may take before it is abandoned.
    pub http_timeout: std::time::Duration,
    /// Where the scheduler reports what it did (tests listen here).
    pub scheduler_events: Option<tokio::sync::mpsc::UnboundedSender<scheduler::SchedulerEvent>>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("token", &"<redacted>")
            .field("api_url", &self.api_url)
            .field("data_dir", &self.data_dir)
            .field("dev_guild", &self.dev_guild)
            .field("message_content", &self.message_content)
            .finish_non_exhaustive()
    }
}

/// State shared by every command and event handler.
pub struct Data {
    framework: Arc<Library>,
    store: Store,
    clock: Arc<dyn Clock>,
    inline: InlineReplies,
    message_content: bool,
    rest: rest::Rest,
    models: crate::prompts::Models,
    scheduler: Arc<scheduler::Scheduler>,
    fair_use: crate::commands::personal::FairUse,
}

/// poise's context for our data and error types.
pub type Context<'a> = poise::Context<'a, Data, BotError>;

/// What can go wrong while handling an interaction or event.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// Something the user can fix; the message is written for them.
    #[error("{0}")]
    User(String),
    /// Discord refused or failed a request (boxed: serenity's error is large).
    #[error("Discord request failed: {0}")]
    Discord(Box<serenity::Error>),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<serenity::Error> for BotError {
    fn from(e: serenity::Error) -> Self {
        BotError::Discord(Box::new(e))
    }
}

/// Why the bot could not run, as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Discord did not accept the token.
    #[error(
        "Discord rejected the bot token (HTTP 401). Check DISCORD_TOKEN or --token-file: copy the token again from the Developer Portal, Bot page."
    )]
    TokenRejected,
    /// Discord could not be reached to check the token.
    #[error("cannot reach Discord at {url}: {source}")]
    Unreachable {
        /// The API base used.
        url: String,
        /// What happened.
        source: serenity::Error,
    },
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The prompts shipped with the binary do not load (a build defect).
    #[error("the built-in prompts do not load: {0}")]
    Prompts(String),
    /// The shards asked for cannot run as asked.
    #[error("{0}")]
    Shards(String),
    /// The gateway connection failed for good.
    #[error("the Discord gateway connection ended: {0}")]
    Gateway(serenity::Error),
}

/// The permissions the bot asks for when invited: view channels, send
/// messages (and in threads), embed links, read message history (to reply to
/// a message), create public threads (for the weekly discussion), create
/// events (each of the group's meetings is one of Discord's scheduled
/// events, made by the bot, which may then move and remove the events it
/// made and no others) and connect (an event in a voice channel needs the
/// bot to be able to view and connect to that channel).
pub const INVITE_PERMISSIONS: u64 =
    (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 20) | (1 << 35) | (1 << 38) | (1 << 44);

/// The link that adds the bot to a server with the `bot` and
/// `applications.commands` scopes and [`INVITE_PERMISSIONS`].
pub fn invite_url(application_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot%20applications.commands&permissions={INVITE_PERMISSIONS}"
    )
}

/// The apology shown when something unexpected fails.
const APOLOGY: &str =
    "Sorry, something went wrong on our side while answering that. Please try again in a moment.";

/// Runs the bot until `shutdown` completes (or the gateway fails for good);
/// then closes the shards and flushes the database.
pub async fn run_until(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), RunError> {
    if let Some(range) = config.shards
        && !range.covers_all()
        && config.database.is_none()
    {
        return Err(RunError::Shards(format!(
            "--shards {}-{} leaves the other shards of {} to other processes, but a data directory can be open in only one process at a time, so they could not run; give every process the same PostgreSQL database (--database), or run all the shards here",
            range.first(),
            range.last(),
            range.total()
        )));
    }
    // On PostgreSQL the shards' locks let the other shards' processes in.
    let database = config.database.clone().map(|opts| crate::store::PgOptions {
        shards: config.shards,
        ..opts
    });
    let store = Store::open_in(
        &config.data_dir,
        config.key_file.as_deref(),
        database.as_ref(),
    )?;
    let api_base = config.api_url.clone();
    let (http, rest) = build_http(&config, store.clone());
    check_token(&http, api_base.as_deref()).await?;

    let intents = if config.message_content {
        GatewayIntents::GUILDS
            | GatewayIntents::GUILD_SCHEDULED_EVENTS
            | GatewayIntents::GUILD_MESSAGES
            | GatewayIntents::MESSAGE_CONTENT
    } else {
        GatewayIntents::GUILDS | GatewayIntents::GUILD_SCHEDULED_EVENTS
    };
    let prompts = crate::prompts::WeeklyPrompts::builtin(&config.framework)
        .map_err(|e| RunError::Prompts(e.to_string()))?;
    let scheduler = Arc::new(scheduler::Scheduler {
        framework: Arc::clone(&config.framework),
        prompts,
        store: store.clone(),
        rest: rest.clone(),
        clock: Arc::clone(&config.clock),
        wake: tokio::sync::Notify::new(),
        events: config.scheduler_events.clone(),
        shards: config.shards.unwrap_or(crate::shards::ShardRange::ALL),
        events_checked: std::sync::Mutex::default(),
    });
    let data = Data {
        framework: Arc::clone(&config.framework),
        store: store.clone(),
        clock: Arc::clone(&config.clock),
        inline: InlineReplies::default(),
        message_content: config.message_content,
        rest,
        models: crate::prompts::Models::builtin().map_err(|e| RunError::Prompts(e.to_string()))?,
        scheduler: Arc::clone(&scheduler),
        fair_use: crate::commands::personal::FairUse::default(),
    };
    let dev_guild = config.dev_guild;
    let framework = poise::Framework::builder()
        .options(framework_options())
        .initialize_owners(false)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                register(ctx, &framework.options().commands, dev_guild).await?;
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "ready; commands registered");
                Ok(data)
            })
        })
        .build();

    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .await
        .map_err(RunError::Gateway)?;
    let shards = Arc::clone(&client.shard_manager);
    let posting = tokio::spawn(scheduler.run());
    let result = tokio::select! {
        r = start(&mut client, config.shards) => r.map_err(RunError::Gateway),
        () = shutdown => {
            tracing::info!("shutting down");
            shards.shutdown_all().await;
            Ok(())
        }
    };
    posting.abort();
    let _ = posting.await;
    store.close(config.clock.now())?;
    result
}

/// Starts the gateway: `shards` only, or every shard when none are given.
async fn start(
    client: &mut serenity::Client,
    shards: Option<crate::shards::ShardRange>,
) -> Result<(), serenity::Error> {
    match shards {
        // serenity's range here is inclusive of its end.
        Some(r) => {
            client
                .start_shard_range(r.first()..r.last(), r.total())
                .await
        }
        None => client.start().await,
    }
}

/// serenity's HTTP client, and the bot's own poster ([`rest::Rest`]), sharing
/// one connection pool.
fn build_http(config: &Config, turns: Store) -> (serenity::Http, rest::Rest) {
    let base = config
        .api_url
        .as_deref()
        .unwrap_or("https://discord.com")
        .trim_end_matches('/')
        .to_string();
    // A request that hangs must not hold a handler (or the weekly post) forever.
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(config.http_timeout);
    // Test traffic to a local fake must never be routed through a proxy from
    // the environment.
    let client = if is_loopback(&base) {
        client.no_proxy()
    } else {
        client
    };
    let client = client.build().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "custom HTTP client unavailable; using the default");
        reqwest::Client::new()
    });
    let mut builder = HttpBuilder::new(&config.token)
        .client(client.clone())
        .default_allowed_mentions(reply::no_mentions());
    if config.api_url.is_some() {
        // serenity only sends to a proxy with its own rate limiter off; the
        // proxy limits instead, and the bot's own posts honour 429s in `rest`.
        builder = builder.proxy(base.clone()).ratelimiter_disabled(true);
    }
    (
        builder.build(),
        rest::Rest::new(client, &base, &config.token, turns),
    )
}

/// Whether a URL's host is this machine.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => rest.split(['/', ':']).next().unwrap_or_default(),
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

async fn check_token(http: &serenity::Http, api_url: Option<&str>) -> Result<(), RunError> {
    match http.get_current_user().await {
        Ok(_) => Ok(()),
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(e)))
            if e.status_code == serenity::StatusCode::UNAUTHORIZED =>
        {
            Err(RunError::TokenRejected)
        }
        Err(source) => Err(RunError::Unreachable {
            url: api_url.unwrap_or("https://discord.com").to_string(),
            source,
        }),
    }
}

async fn register(
    ctx: &serenity::Context,
    commands: &[poise::Command<Data, BotError>],
    dev_guild: Option<u64>,
) -> Result<(), BotError> {
    match dev_guild {
        Some(guild) => {
            poise::builtins::register_in_guild(ctx, commands, serenity::GuildId::new(guild)).await?
        }
        None => poise::builtins::register_globally(ctx, commands).await?,
    }
    Ok(())
}

/// Every command the bot registers, each described as the core's
/// catalogue describes it.
fn all_commands() -> Vec<poise::Command<Data, BotError>> {
    let mut all = vec![
        commands::competence(),
        commands::search(),
        commands::framework(),
        commands::guide(),
        commands::help(),
        commands::inline(),
        commands::reflect(),
        commands::reflections(),
        commands::map(),
        commands::priorities(),
        supervision::log(),
        supervision::present(),
        schedule_commands::schedule(),
        schedule_commands::week(),
        schedule_commands::remind(),
        meetings::meeting(),
        meetings::convene(),
        meetings::rota(),
        meetings::agenda(),
    ];
    for command in &mut all {
        if let Some(c) =
            crate::commands::catalogue::find(crate::commands::FrontEnd::Discord, &command.name)
        {
            command.description = Some(c.summary.into());
        }
    }
    all
}

fn framework_options() -> poise::FrameworkOptions<Data, BotError> {
    poise::FrameworkOptions {
        commands: all_commands(),
        allowed_mentions: Some(reply::no_mentions()),
        reply_callback: Some(|_ctx, reply| reply.allowed_mentions(reply::no_mentions())),
        on_error: |error| Box::pin(on_error(error)),
        event_handler: |framework, event| {
            Box::pin(events::handle(
                framework.serenity_context,
                event,
                framework.user_data,
            ))
        },
        ..Default::default()
    }
}

/// User errors are shown to the user, privately; anything else is logged with
/// its context (never the user's text) and answered with an apology.
async fn on_error(error: poise::FrameworkError<'_, Data, BotError>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            let message = match &error {
                BotError::User(text) => text.clone(),
                // Said as it is: the member can act on it.
                BotError::Store(e @ StoreError::MeetingsChanged) => e.to_string(),
                other => {
                    tracing::error!(command = %ctx.command().qualified_name, guild = ?ctx.guild_id().map(|g| g.get()), error = %other, "command failed");
                    APOLOGY.to_string()
                }
            };
            let reply = poise::CreateReply::default()
                .content(message)
                .ephemeral(true)
                .allowed_mentions(reply::no_mentions());
            if let Err(e) = ctx.send(reply).await {
                tracing::warn!(error = %e, "could not send the error reply");
            }
        }
        poise::FrameworkError::EventHandler { error, event, .. } => {
            tracing::error!(event = event.snake_case_name(), error = %error, "event handler failed");
        }
        poise::FrameworkError::ArgumentParse { ctx, .. } => {
            let reply = poise::CreateReply::default()
                .content("I couldn't read one of the options. Please pick from the list or check what you typed.")
                .ephemeral(true)
                .allowed_mentions(reply::no_mentions());
            if let Err(e) = ctx.send(reply).await {
                tracing::warn!(error = %e, "could not send the error reply");
            }
        }
        poise::FrameworkError::CommandStructureMismatch {
            ctx, description, ..
        } => {
            tracing::error!(command = %ctx.command().qualified_name, description, "options do not match the registered command");
            let reply = poise::CreateReply::default()
                .content("That command's options did not match what this bot expects; the command list may be out of date. Please try again in a minute.")
                .ephemeral(true)
                .allowed_mentions(reply::no_mentions());
            if let Err(e) = poise::Context::Application(ctx).send(reply).await {
                tracing::warn!(error = %e, "could not send the error reply");
            }
        }
        poise::FrameworkError::MissingUserPermissions { ctx, .. } => {
            let reply = poise::CreateReply::default()
                .content(format!(
                    "`/{}` needs the Manage Server permission in this server: ask someone who has it. Nothing was changed.",
                    ctx.command().qualified_name
                ))
                .ephemeral(true)
                .allowed_mentions(reply::no_mentions());
            if let Err(e) = ctx.send(reply).await {
                tracing::warn!(error = %e, "could not send the error reply");
            }
        }
        poise::FrameworkError::Setup { error, .. } => {
            tracing::error!(error = %error, "setup failed: commands could not be registered");
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!(error = %e, "could not report a framework error");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn the_invite_url_carries_the_scopes_and_permissions() {
        let url = super::invite_url(42);
        assert_eq!(
            url,
            "https://discord.com/oauth2/authorize?client_id=42&scope=bot%20applications.commands&permissions=17901424823296"
        );
        // Create Events (1 << 44), which lets the bot change only the events
        // it made, and Connect (1 << 20) for a meeting in a voice channel;
        // never Manage Events (1 << 33), which reaches every member's events.
        let has = |bit: u32| super::INVITE_PERMISSIONS & (1 << bit) != 0;
        assert!(has(44) && has(20) && !has(33));
    }

    #[test]
    fn loopback_urls_are_recognised() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:80",
            "http://127.0.0.5",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://discord.com",
            "http://10.0.0.1:80",
            "http://proxy.example:3000",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
