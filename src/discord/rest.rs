//! Posting the messages the bot sends on its own (inline answers now, weekly
//! prompts later), with Discord's rate limits and server errors handled here.
//!
//! Why not serenity's `Http` for these: when requests go through a proxy
//! (`--api-url`), serenity must run without its rate limiter and then drops a
//! 429's `retry_after`. Here every 429 waits exactly what Discord (or the
//! proxy) asked, 5xx answers are retried with a short backoff, and anything
//! else comes back as a typed error the caller can act on (a 403 or 404 means
//! the channel is gone or closed to the bot).
//!
//! Every request first takes a turn under Discord's global rate limit from
//! the store (`Store::discord_turn`), which counts them for every process
//! sharing the database; a 429 Discord marks global holds them all back
//! (`Store::hold_discord_back`).

use std::time::Duration;

use poise::serenity_prelude as serenity;
use serde_json::Value;

/// How many times one message is tried before giving up.
const ATTEMPTS: u32 = 4;
/// The longest wait honoured for a 429; longer asks are reported, not slept.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The bot's own requests a second, for every process together: Discord's
/// global limit is 50, and the rest is left to the few calls serenity
/// makes itself (interaction replies do not count against it).
pub const GLOBAL_PER_SECOND: u32 = 45;
/// Discord's JSON error code for a scheduled event it does not know.
const UNKNOWN_SCHEDULED_EVENT: u64 = 10070;

/// Why a post failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// Discord answered with an error status the caller should act on.
    #[error("Discord answered {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// Discord's message, if any.
        message: String,
        /// Discord's JSON error code, if any (e.g. 50083, thread archived).
        code: Option<u64>,
    },
    /// Still rate-limited or failing after every attempt, or an answer
    /// that could not be used.
    #[error("gave up: {0}")]
    GaveUp(String),
    /// The request could not be sent or the answer not read (its URL,
    /// which can name a shared post, is left out).
    #[error("request failed: {0}")]
    Transport(reqwest::Error),
    /// The body could not be built.
    #[error("could not build the request body: {0}")]
    Body(#[from] serde_json::Error),
}

impl From<reqwest::Error> for RestError {
    fn from(e: reqwest::Error) -> Self {
        RestError::Transport(e.without_url())
    }
}

impl RestError {
    /// The HTTP status Discord answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            RestError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Discord's JSON error code, if it gave one.
    pub fn code(&self) -> Option<u64> {
        match self {
            RestError::Status { code, .. } => *code,
            _ => None,
        }
    }

    /// Whether the channel is gone or closed to the bot (404 or 403).
    pub fn is_missing_or_forbidden(&self) -> bool {
        matches!(
            self,
            RestError::Status {
                status: 403 | 404,
                ..
            }
        )
    }
}

/// A small REST client for the bot's own posts.
#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    base: String,
    authorization: String,
    /// Where the turns under Discord's global rate limit are counted.
    turns: crate::store::Store,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Rest {
    /// A client for `base` (e.g. `https://discord.com`) with the bot's
    /// token, counting its requests under the global rate limit in `turns`.
    pub fn new(
        client: reqwest::Client,
        base: &str,
        token: &str,
        turns: crate::store::Store,
    ) -> Rest {
        let token = token.trim();
        let authorization = if token.starts_with("Bot ") {
            token.to_string()
        } else {
            format!("Bot {token}")
        };
        Rest {
            client,
            base: base.trim_end_matches('/').to_string(),
            authorization,
            turns,
        }
    }

    /// Posts a message to a channel; returns Discord's message.
    pub async fn send_message(
        &self,
        channel: serenity::ChannelId,
        message: &serenity::CreateMessage,
    ) -> Result<serenity::Message, RestError> {
        let url = format!("{}/api/v10/channels/{}/messages", self.base, channel.get());
        let body = serde_json::to_value(message)?;
        let value = self.post(&url, &body).await?;
        Ok(serde_json::from_value(value)?)
    }

    /// Sends a direct message to a user (opening the DM channel first).
    pub async fn direct_message(
        &self,
        user: u64,
        message: &serenity::CreateMessage,
    ) -> Result<serenity::Message, RestError> {
        let url = format!("{}/api/v10/users/@me/channels", self.base);
        let channel = self
            .post(
                &url,
                &serde_json::json!({ "recipient_id": user.to_string() }),
            )
            .await?;
        let id: u64 = channel
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| RestError::GaveUp("the DM channel answer had no id".into()))?;
        self.send_message(serenity::ChannelId::new(id.max(1)), message)
            .await
    }

    /// Opens a public thread on a message; returns the thread's id.
    pub async fn create_thread(
        &self,
        channel: serenity::ChannelId,
        message: serenity::MessageId,
        name: &str,
    ) -> Result<u64, RestError> {
        let url = format!(
            "{}/api/v10/channels/{}/messages/{}/threads",
            self.base,
            channel.get(),
            message.get()
        );
        let body = serde_json::json!({ "name": crate::render::fit(name, 100), "auto_archive_duration": 10080 });
        let value = self.post(&url, &body).await?;
        value
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| RestError::GaveUp("the thread answer had no id".into()))
    }

    /// Deletes one of the bot's own messages (a withdrawn share).
    pub async fn delete_message(&self, channel: u64, message: u64) -> Result<(), RestError> {
        let url = format!(
            "{}/api/v10/channels/{channel}/messages/{message}",
            self.base
        );
        self.send(reqwest::Method::DELETE, &url, None).await?;
        Ok(())
    }

    /// Archives or unarchives one of the bot's threads.
    pub async fn set_archived(&self, thread: u64, archived: bool) -> Result<(), RestError> {
        let url = format!("{}/api/v10/channels/{thread}", self.base);
        let body = serde_json::json!({ "archived": archived });
        self.send(reqwest::Method::PATCH, &url, Some(&body)).await?;
        Ok(())
    }

    /// Makes one of Discord's scheduled events in a server; returns its id.
    /// Tried once: an event has no nonce, so a retry after an answer lost
    /// could make a second; the caller looks for it by name and start first.
    pub async fn create_event(&self, guild: u64, body: &Value) -> Result<u64, RestError> {
        let url = format!("{}/api/v10/guilds/{guild}/scheduled-events", self.base);
        let value = self
            .send_tries(reqwest::Method::POST, &url, Some(body), 1)
            .await?;
        id_of(&value, "the event answer had no id")
    }

    /// The server's scheduled events, as Discord gives them. An answer that
    /// is not a list is an error, never an empty list: a caller treats an
    /// event missing from it as deleted.
    pub async fn events(&self, guild: u64) -> Result<Vec<Value>, RestError> {
        let url = format!("{}/api/v10/guilds/{guild}/scheduled-events", self.base);
        match self.send(reqwest::Method::GET, &url, None).await? {
            Value::Array(events) => Ok(events),
            _ => Err(RestError::GaveUp(
                "the scheduled events answer was not a list".into(),
            )),
        }
    }

    /// Whether Discord still has a scheduled event: `false` only when it
    /// answers that it knows no such event (404, code 10070); any other
    /// failure (no access, the server gone, rate limits) is an error.
    pub async fn event_exists(&self, guild: u64, event: u64) -> Result<bool, RestError> {
        let url = format!(
            "{}/api/v10/guilds/{guild}/scheduled-events/{event}",
            self.base
        );
        match self.send(reqwest::Method::GET, &url, None).await {
            Ok(_) => Ok(true),
            Err(RestError::Status {
                status: 404,
                code: Some(UNKNOWN_SCHEDULED_EVENT),
                ..
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Changes a scheduled event.
    pub async fn edit_event(&self, guild: u64, event: u64, body: &Value) -> Result<(), RestError> {
        let url = format!(
            "{}/api/v10/guilds/{guild}/scheduled-events/{event}",
            self.base
        );
        self.send(reqwest::Method::PATCH, &url, Some(body)).await?;
        Ok(())
    }

    /// Deletes a scheduled event; one already gone counts as deleted.
    pub async fn delete_event(&self, guild: u64, event: u64) -> Result<(), RestError> {
        let url = format!(
            "{}/api/v10/guilds/{guild}/scheduled-events/{event}",
            self.base
        );
        match self.send(reqwest::Method::DELETE, &url, None).await {
            Err(RestError::Status { status: 404, .. }) | Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A member of a server by the name the server shows (their server
    /// nickname, else their display name, else their username), or `None`
    /// when they are not in the server.
    pub async fn member_name(&self, guild: u64, user: u64) -> Result<Option<String>, RestError> {
        let url = format!("{}/api/v10/guilds/{guild}/members/{user}", self.base);
        match self.send(reqwest::Method::GET, &url, None).await {
            Ok(v) => {
                let name = [
                    &v["nick"],
                    &v["user"]["global_name"],
                    &v["user"]["username"],
                ]
                .into_iter()
                .find_map(|n| n.as_str().filter(|s| !s.trim().is_empty()))
                .unwrap_or("a member");
                Ok(Some(crate::render::fit(name, 80)))
            }
            Err(RestError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn post(&self, url: &str, body: &Value) -> Result<Value, RestError> {
        self.send(reqwest::Method::POST, url, Some(body)).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, RestError> {
        self.send_tries(method, url, body, ATTEMPTS).await
    }

    async fn send_tries(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        tries: u32,
    ) -> Result<Value, RestError> {
        let mut last = String::new();
        for attempt in 1..=tries {
            self.take_turn().await;
            let mut request = self
                .client
                .request(method.clone(), url)
                .header("Authorization", &self.authorization)
                .header("User-Agent", serenity::constants::USER_AGENT);
            if let Some(body) = body {
                request = request
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(body)?);
            }
            let response = request.send().await?;
            let status = response.status().as_u16();
            let retry_after_header = header_seconds(&response, "retry-after");
            let global_header = response
                .headers()
                .get("x-ratelimit-global")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
            let text = response.text().await?;
            let global_limit = status == 429 && (global_header || is_global(&text));
            match status {
                200..=299 if text.trim().is_empty() => return Ok(Value::Null),
                200..=299 => return Ok(serde_json::from_str(&text)?),
                429 => {
                    let wait = retry_after(retry_after_header, &text);
                    if global_limit
                        && let Err(e) = self.turns.hold_discord_back(wait, GLOBAL_PER_SECOND)
                    {
                        tracing::warn!(error = %e, "a global rate limit could not be shared");
                    }
                    if wait > MAX_RETRY_AFTER {
                        return Err(RestError::GaveUp(format!("rate limited for {wait:?}")));
                    }
                    tracing::warn!(attempt, ?wait, "rate limited; waiting as asked");
                    tokio::time::sleep(wait).await;
                    last = "rate limited".to_string();
                }
                500..=599 => {
                    let wait = Duration::from_millis(250 * u64::from(attempt));
                    tracing::warn!(attempt, status, ?wait, "Discord server error; retrying");
                    tokio::time::sleep(wait).await;
                    last = format!("status {status}");
                }
                _ => {
                    let body = serde_json::from_str::<Value>(&text).ok();
                    return Err(RestError::Status {
                        status,
                        message: discord_message(&text),
                        code: body.as_ref().and_then(|v| v.get("code")?.as_u64()),
                    });
                }
            }
        }
        let plural = if tries == 1 { "" } else { "s" };
        Err(RestError::GaveUp(format!(
            "{last} after {tries} attempt{plural}"
        )))
    }
}

impl Rest {
    /// Waits for a turn under Discord's global rate limit. When the count
    /// cannot be read (the database is away), the request goes: Discord's
    /// 429s still hold it back.
    async fn take_turn(&self) {
        loop {
            match self.turns.discord_turn(GLOBAL_PER_SECOND) {
                Ok(crate::store::Turn::Go { .. }) => return,
                Ok(crate::store::Turn::Wait(wait)) => tokio::time::sleep(wait).await,
                Err(e) => {
                    tracing::warn!(error = %e, "the global rate limit's count could not be read");
                    return;
                }
            }
        }
    }
}

/// FNV-1a of `parts`, for message nonces that must stay the same across
/// retries and versions (the weekly post's, an agenda's opening).
pub(super) fn fnv(parts: &[[u8; 8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flatten() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Whether a 429's body says the limit is the bot's as a whole.
fn is_global(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("global").and_then(Value::as_bool))
        .unwrap_or(false)
}

fn id_of(value: &Value, missing: &str) -> Result<u64, RestError> {
    value
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| RestError::GaveUp(missing.into()))
}

fn header_seconds(response: &reqwest::Response, name: &str) -> Option<f64> {
    response
        .headers()
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The wait a 429 asks for: the body's `retry_after`, else the header, else one second.
fn retry_after(header: Option<f64>, body: &str) -> Duration {
    let from_body = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("retry_after").and_then(Value::as_f64));
    let seconds = from_body.or(header).unwrap_or(1.0);
    if seconds.is_finite() && seconds >= 0.0 {
        Duration::from_secs_f64(seconds.min(3600.0))
    } else {
        Duration::from_secs(1)
    }
}

fn discord_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_is_global_only_when_its_body_says_so() {
        assert!(is_global(r#"{"retry_after": 0.5, "global": true}"#));
        assert!(!is_global(r#"{"retry_after": 0.5, "global": false}"#));
        assert!(!is_global(r#"{"retry_after": 0.5}"#));
        assert!(!is_global("not json"));
    }

    #[test]
    fn retry_after_prefers_the_body_then_the_header() {
        assert_eq!(
            retry_after(Some(2.0), r#"{"retry_after": 0.5}"#),
            Duration::from_millis(500)
        );
        assert_eq!(retry_after(Some(2.0), "not json"), Duration::from_secs(2));
        assert_eq!(retry_after(None, "{}"), Duration::from_secs(1));
        assert_eq!(retry_after(Some(-1.0), "{}"), Duration::from_secs(1));
    }
}
