//! A fake Discord on 127.0.0.1: REST over HTTP and the gateway over a
//! WebSocket, enough of both for serenity and poise, in-process.
//!
//! Tests drive it: [`FakeDiscord::dispatch`] sends gateway events (an
//! interaction, a message), [`FakeDiscord::wait_for`] waits for the bot's REST
//! request that answers it, [`FakeDiscord::fail_next`] scripts a failure
//! (429, 500) and [`FakeDiscord::drop_connection`] cuts the WebSocket. Every
//! request is recorded with its method, path, headers and JSON body, and every
//! body is validated against Discord's OpenAPI spec as it arrives.
//!
//! Shards as Discord runs them: each gateway connection IDENTIFYs as
//! `shard: [id, total]` (none: `[0, 1]`), and a server's events go only to
//! the connection of the shard that owns it, `(guild_id >> 22) % total`;
//! events of no server (direct messages) go to shard 0.

pub mod fixtures;
pub mod spec;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

/// A poisoned lock is still usable here: a test that panicked holding it has
/// already failed, and the others should report their own results.
trait Locked<T> {
    fn locked(&self) -> std::sync::MutexGuard<'_, T>;
}

impl<T> Locked<T> for Mutex<T> {
    fn locked(&self) -> std::sync::MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The token the fake accepts.
pub const TOKEN: &str = "fake-token";

/// How long a test waits for the bot before failing.
const PATIENCE: Duration = Duration::from_secs(20);

/// One REST request the bot made.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Files sent with a multipart request: (file name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// What the spec said of the body: `None` when valid.
    pub spec_error: Option<String>,
    /// When the fake received it, by its own monotonic clock (what
    /// [`FakeDiscord::busiest_second`] counts).
    pub at: std::time::Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body, which the test expects to be there.
    pub fn json(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }
}

/// A scripted answer for the next matching request.
#[derive(Debug, Clone)]
struct Fault {
    method: String,
    path_contains: String,
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
    /// Do the request's work (create the message) and still answer with the fault,
    /// as when a connection drops after Discord acted.
    accept: bool,
    /// Answer only after this long (a hung server).
    delay: Option<Duration>,
    /// Matching requests to answer as usual before this fault applies.
    passes: usize,
    /// Applies to every matching request, not only the next.
    lasting: bool,
}

/// A message the fake created in a channel.
#[derive(Debug, Clone)]
pub struct Created {
    pub channel: String,
    pub id: u64,
    pub nonce: Option<String>,
}

/// A thread the fake opened on a message. As in Discord, the thread's id is
/// the message's.
#[derive(Debug, Clone)]
pub struct Thread {
    pub channel: String,
    pub message: u64,
    pub name: String,
}

/// One identified gateway session: its shard and where its events go.
struct Session {
    shard: u32,
    total: u32,
    /// Sessions opened before it and it (see [`FakeDiscord::sessions_opened`]).
    serial: u64,
    tx: mpsc::UnboundedSender<GatewayCommand>,
}

/// The shard that owns `guild` of `total`, as Discord computes it.
pub fn shard_of(guild: u64, total: u32) -> u32 {
    u32::try_from((guild >> 22) % u64::from(total.max(1))).unwrap_or(0)
}

/// The server a dispatch belongs to, if any: a server's own events carry it
/// as `id`, the others as `guild_id`.
fn guild_of(t: &str, d: &Value) -> Option<u64> {
    let field = match t {
        "GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE" => &d["id"],
        _ => &d["guild_id"],
    };
    field.as_str()?.parse().ok()
}

/// The session id the fake gives shard `shard` of `total`, which a RESUME
/// sends back.
fn session_id(shard: u32, total: u32) -> String {
    format!("fake-session-{shard}-{total}")
}

fn shard_of_session(id: &str) -> Option<(u32, u32)> {
    let (shard, total) = id.strip_prefix("fake-session-")?.split_once('-')?;
    Some((shard.parse().ok()?, total.parse().ok()?))
}

enum GatewayCommand {
    Dispatch(String, Value),
    Raw(Value),
    Drop,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Request>>,
    faults: Mutex<VecDeque<Fault>>,
    /// The open sessions, one per shard.
    sessions: Mutex<Vec<Session>>,
    gateway_log: Mutex<Vec<String>>,
    changed: Notify,
    /// The last sequence number sent on each shard's session.
    seqs: Mutex<std::collections::HashMap<u32, u64>>,
    /// IDENTIFYs so far (what `session_start_limit.remaining` counts down).
    identifies: AtomicU64,
    /// Sessions opened (identified or resumed) so far.
    opened: AtomicU64,
    /// Each dispatch's event name, id (`d.id`) and the shard it went to.
    routed: Mutex<Vec<(String, Value, u32)>>,
    message_ids: AtomicU64,
    gateway_url: Mutex<String>,
    dispatched: Mutex<Vec<Value>>,
    created: Mutex<Vec<Created>>,
    /// Threads opened on messages.
    threads: Mutex<Vec<Thread>>,
    /// Off for load runs, where validation would be the bottleneck.
    skip_validation: std::sync::atomic::AtomicBool,
    /// The heartbeat interval sent in HELLO, in milliseconds (0: Discord's usual 41,250).
    heartbeat_ms: AtomicU64,
    /// When set, heartbeats go unanswered.
    silent: std::sync::atomic::AtomicBool,
    /// The servers' scheduled events, as Discord keeps them.
    scheduled_events: Mutex<Vec<Value>>,
    /// Members of the test server who have left it.
    left: Mutex<Vec<u64>>,
}

impl Shared {
    fn note(&self, line: impl Into<String>) {
        self.gateway_log.locked().push(line.into());
        self.changed.notify_waiters();
    }

    fn next_seq(&self, shard: u32) -> u64 {
        let mut seqs = self.seqs.locked();
        let seq = seqs.entry(shard).or_insert(0);
        *seq += 1;
        *seq
    }

    /// Where shard `shard`'s events go now, if it is connected.
    fn session(&self, shard: u32) -> Option<mpsc::UnboundedSender<GatewayCommand>> {
        self.sessions
            .locked()
            .iter()
            .find(|s| s.shard == shard)
            .map(|s| s.tx.clone())
    }

    /// `tx` is now shard `shard` of `total`'s session (replacing an earlier one).
    fn open_session(&self, shard: u32, total: u32, tx: &mpsc::UnboundedSender<GatewayCommand>) {
        let serial = self.opened.fetch_add(1, Ordering::Relaxed) + 1;
        let mut sessions = self.sessions.locked();
        sessions.retain(|s| s.shard != shard);
        sessions.push(Session {
            shard,
            total,
            serial,
            tx: tx.clone(),
        });
    }
}

/// The running fake.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    base: String,
    next_id: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeDiscord {
    /// Starts the fake on a free port of 127.0.0.1.
    pub async fn start() -> FakeDiscord {
        FakeDiscord::start_on(0).await
    }

    /// Starts the fake on `port` of 127.0.0.1 (0: a free one).
    pub async fn start_on(port: u16) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}: {e}"));
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            message_ids: AtomicU64::new(800000000000000000),
            ..Shared::default()
        });
        *shared.gateway_url.locked() = format!("ws://{addr}/gateway");
        let app = Router::new()
            .route("/gateway", get(gateway_upgrade))
            .fallback(rest)
            // Discord takes uploads up to 10 MiB a message (more with
            // boosts); the fake takes more, so the bot's own limit is what
            // a test sees.
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(Arc::clone(&shared));
        // Small frames go out at once, as Discord's do: without this, Nagle's
        // algorithm holds a frame until the bot's delayed acknowledgement
        // (40 ms on Linux), which is the fake's latency, not the bot's.
        let listener = axum::serve::ListenerExt::tap_io(listener, |socket| {
            let _ = socket.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDiscord {
            shared,
            base: format!("http://{addr}"),
            next_id: AtomicU64::new(300000000000000000),
            server,
        }
    }

    /// Stops validating bodies (load runs measure the bot, not the validator;
    /// used by `benches/e2e.rs`).
    #[allow(dead_code)]
    pub fn skip_validation(&self) {
        self.shared.skip_validation.store(true, Ordering::Relaxed);
    }

    /// What the bot gets as `--api-url`.
    pub fn api_url(&self) -> String {
        self.base.clone()
    }

    /// A fresh snowflake for an interaction or message.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(10, Ordering::Relaxed)
    }

    /// The scheduled events the servers have now.
    pub fn scheduled_events(&self) -> Vec<Value> {
        self.shared.scheduled_events.locked().clone()
    }

    /// A member leaves the test server: Discord no longer finds them.
    pub fn member_leaves(&self, id: u64) {
        self.shared.left.locked().push(id);
    }

    /// Someone deletes a scheduled event in Discord's own interface: it is
    /// gone, and the gateway says so.
    pub fn delete_event_by_hand(&self, id: &str) {
        let event = self.delete_event_unseen(id);
        self.dispatch("GUILD_SCHEDULED_EVENT_DELETE", event);
    }

    /// Someone deletes a scheduled event in Discord's own interface while
    /// the bot is not connected: it is gone, and the gateway never says so.
    pub fn delete_event_unseen(&self, id: &str) -> Value {
        let mut events = self.shared.scheduled_events.locked();
        let Some(i) = events.iter().position(|e| e["id"] == id) else {
            panic!("no scheduled event {id}");
        };
        events.remove(i)
    }

    /// Every interaction dispatched so far.
    pub fn dispatched(&self) -> Vec<Value> {
        self.shared.dispatched.locked().clone()
    }

    /// Sends a gateway dispatch (`t`, `d`) to the connected bot: to the
    /// shard that owns its server, or shard 0 for one of no server.
    pub fn dispatch(&self, t: &str, d: Value) {
        if t == "INTERACTION_CREATE" {
            self.shared.dispatched.locked().push(d.clone());
        }
        let shard = match guild_of(t, &d) {
            Some(guild) => {
                let total = self.shared.sessions.locked().first().map_or(1, |s| s.total);
                shard_of(guild, total)
            }
            None => 0,
        };
        let sender = self.shared.session(shard);
        let sender = sender.unwrap_or_else(|| {
            panic!("{t}: shard {shard}, which owns it, is not connected to the gateway")
        });
        self.shared
            .routed
            .locked()
            .push((t.to_string(), d["id"].clone(), shard));
        sender
            .send(GatewayCommand::Dispatch(t.to_string(), d))
            .expect("the gateway connection is open");
    }

    /// The shard the dispatch of `t` whose `d.id` is `id` went to.
    pub fn routed_to(&self, t: &str, id: &str) -> Option<u32> {
        self.shared
            .routed
            .locked()
            .iter()
            .find(|(event, i, _)| event == t && i == id)
            .map(|(_, _, shard)| *shard)
    }

    /// The shards with an open session, in order.
    pub fn connected_shards(&self) -> Vec<u32> {
        let mut shards: Vec<u32> = self
            .shared
            .sessions
            .locked()
            .iter()
            .map(|s| s.shard)
            .collect();
        shards.sort_unstable();
        shards
    }

    /// Asks for heartbeats every `ms` milliseconds on new connections.
    pub fn set_heartbeat_interval(&self, ms: u64) {
        self.shared.heartbeat_ms.store(ms, Ordering::Relaxed);
    }

    /// Stops (or resumes) acknowledging heartbeats, as a stalled gateway would.
    pub fn ack_heartbeats(&self, ack: bool) {
        self.shared.silent.store(!ack, Ordering::Relaxed);
    }

    /// Sends Invalid Session (op 9), resumable or not, on every session.
    pub fn invalidate_session(&self, resumable: bool) {
        for session in self.shared.sessions.locked().iter() {
            let _ = session
                .tx
                .send(GatewayCommand::Raw(json!({ "op": 9, "d": resumable })));
        }
    }

    /// Cuts every WebSocket without a close frame, as a network failure would.
    pub fn drop_connection(&self) {
        let sessions = std::mem::take(&mut *self.shared.sessions.locked());
        for session in sessions {
            let _ = session.tx.send(GatewayCommand::Drop);
        }
    }

    /// Answers the next request whose method is `method` and whose path
    /// contains `path_contains` with `status` and `body` instead.
    pub fn fail_next(
        &self,
        method: &str,
        path_contains: &str,
        status: u16,
        body: Value,
        headers: &[(&str, &str)],
    ) {
        self.push_fault(method, path_contains, status, body, headers, false);
    }

    /// Like [`FakeDiscord::fail_next`], but the request's work is done first:
    /// the message exists, and only the answer is lost.
    pub fn fail_next_after_acting(&self, method: &str, path_contains: &str, status: u16) {
        let body = json!({ "message": "500: Internal Server Error", "code": 0 });
        self.push_fault(method, path_contains, status, body, &[], true);
    }

    fn push_fault(
        &self,
        method: &str,
        path_contains: &str,
        status: u16,
        body: Value,
        headers: &[(&str, &str)],
        accept: bool,
    ) {
        self.shared.faults.locked().push_back(Fault {
            method: method.to_string(),
            path_contains: path_contains.to_string(),
            status,
            body,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            accept,
            delay: None,
            passes: 0,
            lasting: false,
        });
    }

    /// Answers the next request whose method is `method` and whose path
    /// contains `path_contains` with Discord's global 429 (the bot as a
    /// whole is over its limit): `retry_after` seconds in the body, and
    /// `x-ratelimit-global` and `retry-after` (whole seconds, rounded up)
    /// in the headers.
    pub fn rate_limit_globally_next(&self, method: &str, path_contains: &str, retry_after: f64) {
        let body = json!({
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": true,
        });
        let seconds = retry_after.ceil().to_string();
        let headers = [
            ("x-ratelimit-global", "true"),
            ("retry-after", seconds.as_str()),
        ];
        self.push_fault(method, path_contains, 429, body, &headers, false);
    }

    /// Drops every fault still waiting: Discord answers as usual again.
    pub fn clear_faults(&self) {
        self.shared.faults.locked().clear();
    }

    /// Like [`FakeDiscord::fail_next`], after `passes` matching requests
    /// have been answered as usual.
    pub fn fail_after(
        &self,
        method: &str,
        path_contains: &str,
        passes: usize,
        status: u16,
        body: Value,
    ) {
        self.push_fault(method, path_contains, status, body, &[], false);
        let mut faults = self.shared.faults.locked();
        if let Some(fault) = faults.back_mut() {
            fault.passes = passes;
        }
    }

    /// Like [`FakeDiscord::fail_next`], for every matching request until
    /// [`FakeDiscord::stop_failing`].
    pub fn fail_every(&self, method: &str, path_contains: &str, status: u16, body: Value) {
        self.push_fault(method, path_contains, status, body, &[], false);
        let mut faults = self.shared.faults.locked();
        if let Some(fault) = faults.back_mut() {
            fault.lasting = true;
        }
    }

    /// Matching requests are answered as usual again.
    pub fn stop_failing(&self, method: &str, path_contains: &str) {
        self.shared
            .faults
            .locked()
            .retain(|f| !(f.method == method && f.path_contains == path_contains));
    }

    /// Someone deletes one of the bot's messages in Discord's own interface.
    pub fn delete_message_by_hand(&self, id: u64) {
        let mut created = self.shared.created.locked();
        let Some(i) = created.iter().position(|c| c.id == id) else {
            panic!("no message {id}");
        };
        created.remove(i);
    }

    /// The threads opened on messages so far.
    pub fn threads(&self) -> Vec<Thread> {
        self.shared.threads.locked().clone()
    }

    /// Acts on the next matching request, then answers only after `delay`:
    /// the bot's client gives up first.
    pub fn hang_next(&self, method: &str, path_contains: &str, delay: Duration) {
        let body = json!({ "message": "too late", "code": 0 });
        self.push_fault(method, path_contains, 504, body, &[], true);
        let mut faults = self.shared.faults.locked();
        if let Some(fault) = faults.back_mut() {
            fault.delay = Some(delay);
        }
    }

    /// The messages created in channels (one per accepted nonce).
    pub fn created(&self) -> Vec<Created> {
        self.shared.created.locked().clone()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.locked().clone()
    }

    /// The most requests received in any one second of the fake's clock
    /// (a window beginning at any request, not only on whole seconds),
    /// leaving out answers to interactions, which Discord does not count
    /// under the bot's global rate limit.
    pub fn busiest_second(&self) -> usize {
        let mut times: Vec<std::time::Instant> = self
            .requests()
            .iter()
            .filter(|r| !r.path.contains("/interactions/") && !r.path.contains("/webhooks/"))
            .map(|r| r.at)
            .collect();
        times.sort_unstable();
        let mut most = 0;
        let mut first = 0;
        for (last, at) in times.iter().enumerate() {
            while at.duration_since(times[first]) >= Duration::from_secs(1) {
                first += 1;
            }
            most = most.max(last + 1 - first);
        }
        most
    }

    /// What happened on the gateway: `connect`, `identify`, `resume`, `heartbeat` …
    pub fn gateway_log(&self) -> Vec<String> {
        self.shared.gateway_log.locked().clone()
    }

    /// Waits until `matches` holds for some request, and returns the first such one.
    pub async fn wait_for(&self, what: &str, matches: impl Fn(&Request) -> bool) -> Request {
        self.wait_until(what, || self.requests().into_iter().find(|r| matches(r)))
            .await
    }

    /// Waits until `probe` returns something.
    pub async fn wait_until<T>(&self, what: &str, probe: impl Fn() -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let notified = self.shared.changed.notified();
            if let Some(found) = probe() {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {}", r.method, r.path))
                    .collect();
                panic!(
                    "timed out waiting for {what}\nrequests seen: {seen:#?}\ngateway: {:?}",
                    self.gateway_log()
                );
            }
        }
    }

    /// Waits for the bot to be connected and to have registered its commands.
    pub async fn wait_ready(&self) {
        self.wait_for("command registration", |r| {
            r.method == "PUT" && r.path.ends_with("/commands")
        })
        .await;
        self.wait_until("an open gateway connection", || {
            (!self.shared.sessions.locked().is_empty()).then_some(())
        })
        .await;
    }

    /// How many gateway sessions have been opened so far.
    pub fn sessions_opened(&self) -> u64 {
        self.shared.opened.load(Ordering::Relaxed)
    }

    /// Waits for shard `shard` to have a session opened after the first
    /// `after` (a bot started since then has connected it).
    pub async fn wait_for_shard(&self, shard: u32, after: u64) {
        self.wait_until(&format!("a new session of shard {shard}"), || {
            self.shared
                .sessions
                .locked()
                .iter()
                .any(|s| s.shard == shard && s.serial > after)
                .then_some(())
        })
        .await;
    }

    /// Sends an interaction and waits for its callback; returns the callback body.
    ///
    /// A submitted form the bot acknowledged first (its answer took longer
    /// than Discord's deadline allows, as on a slow machine) is followed to
    /// the answer that replaced the acknowledgement, as the member sees it.
    pub async fn interact(&self, interaction: Value) -> Value {
        let id = interaction["id"]
            .as_str()
            .expect("interaction id")
            .to_string();
        let form = interaction["type"] == 5;
        self.dispatch("INTERACTION_CREATE", interaction);
        if form {
            return self.form_answer_for(&id).await;
        }
        self.callback_for(&id).await.json().clone()
    }

    /// The answer to the submitted form `id`, as the member sees it: its
    /// callback, or, where the bot acknowledged the form first (its answer
    /// took longer than Discord's deadline allows, as on a busy machine),
    /// the answer that replaced the acknowledgement.
    pub async fn form_answer_for(&self, id: &str) -> Value {
        let callback = self.callback_for(id).await.json().clone();
        if callback["type"] != 5 {
            return callback;
        }
        self.edit_after(id, &callback).await
    }

    /// Sends an interaction the bot acknowledges first (a deferred, private
    /// answer) and answers by editing; returns the answer shaped like a
    /// callback (`type` 4, `data` the edit with the deferral's flags), so the
    /// same helpers read both.
    pub async fn interact_deferred(&self, interaction: Value) -> Value {
        let id = interaction["id"]
            .as_str()
            .expect("interaction id")
            .to_string();
        self.dispatch("INTERACTION_CREATE", interaction);
        let callback = self.callback_for(&id).await.json().clone();
        assert_eq!(callback["type"], 5, "a deferred answer: {callback}");
        self.edit_after(&id, &callback).await
    }

    /// The edit that answered interaction `id` after its deferral
    /// `callback`, shaped like a callback (`type` 4, the deferral's flags).
    async fn edit_after(&self, id: &str, callback: &Value) -> Value {
        let token = fixtures::token(id.parse().expect("numeric id"));
        let edit = self
            .wait_for(&format!("the answer to interaction {id}"), |r| {
                r.method == "PATCH" && r.path.contains(&token) && r.path.ends_with("/@original")
            })
            .await;
        let mut data = edit.json().clone();
        data["flags"] = callback["data"]["flags"].clone();
        json!({ "type": 4, "data": data })
    }

    /// Sends a slash command from `who` in the test channel; returns the callback body.
    pub async fn command(&self, who: fixtures::Member, name: &str, options: Value) -> Value {
        self.interact(fixtures::command(self.next_id(), who, name, options))
            .await
    }

    /// Sends a slash command from `who` in another server and channel.
    pub async fn command_in(
        &self,
        who: fixtures::Member,
        name: &str,
        options: Value,
        guild: &str,
        channel: &str,
    ) -> Value {
        self.interact(fixtures::command_in(
            self.next_id(),
            who,
            name,
            options,
            guild,
            channel,
        ))
        .await
    }

    /// The callback request for interaction `id`.
    pub async fn callback_for(&self, id: &str) -> Request {
        let path = format!("/api/v10/interactions/{id}/");
        self.wait_for(&format!("the callback of interaction {id}"), |r| {
            r.method == "POST" && r.path.starts_with(&path) && r.path.ends_with("/callback")
        })
        .await
    }

    /// Fails the test if any body the bot sent broke Discord's spec.
    pub fn assert_bodies_valid(&self) {
        let broken: Vec<String> = self
            .requests()
            .iter()
            .filter_map(|r| r.spec_error.clone())
            .collect();
        assert!(
            broken.is_empty(),
            "request bodies break Discord's OpenAPI spec:\n{}",
            broken.join("\n")
        );
    }
}

async fn gateway_upgrade(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| gateway(socket, shared))
}

async fn send(socket: &mut WebSocket, payload: Value) -> bool {
    socket
        .send(Message::Text(payload.to_string().into()))
        .await
        .is_ok()
}

/// One gateway connection: HELLO, then IDENTIFY → READY or RESUME → RESUMED,
/// heartbeats acknowledged, and dispatches pushed by the test.
async fn gateway(mut socket: WebSocket, shared: Arc<Shared>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    // The shard this connection IDENTIFYs (or RESUMEs) as.
    let mut shard = 0;
    shared.note("connect");
    let interval = match shared.heartbeat_ms.load(Ordering::Relaxed) {
        0 => 41_250,
        ms => ms,
    };
    if !send(
        &mut socket,
        json!({ "op": 10, "d": { "heartbeat_interval": interval } }),
    )
    .await
    {
        return;
    }
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { break };
                let Message::Text(text) = message else { continue };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                match payload["op"].as_u64() {
                    Some(1) => {
                        if shared.silent.load(Ordering::Relaxed) {
                            shared.note("heartbeat unanswered");
                        } else {
                            shared.note("heartbeat");
                            if !send(&mut socket, json!({ "op": 11 })).await { break; }
                        }
                    }
                    Some(2) => {
                        let (id, total) = match payload["d"]["shard"].as_array().map(Vec::as_slice) {
                            Some([id, total]) => (
                                id.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
                                total.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(1),
                            ),
                            _ => (0, 1),
                        };
                        shard = id;
                        shared.identifies.fetch_add(1, Ordering::Relaxed);
                        let url = shared.gateway_url.locked().clone();
                        shared.seqs.locked().insert(id, 0);
                        let s = shared.next_seq(id);
                        let ready = fixtures::ready(&url, &session_id(id, total), id, total);
                        if !send(&mut socket, json!({ "op": 0, "s": s, "t": "READY", "d": ready })).await { break; }
                        // The session is usable before anyone is told it exists.
                        shared.open_session(id, total, &tx);
                        shared.note(if total == 1 { "identify".to_string() } else { format!("identify shard {id} of {total}") });
                    }
                    Some(6) => {
                        let (id, total) = payload["d"]["session_id"].as_str().and_then(shard_of_session).unwrap_or((0, 1));
                        shard = id;
                        let s = shared.next_seq(id);
                        if !send(&mut socket, json!({ "op": 0, "s": s, "t": "RESUMED", "d": {} })).await { break; }
                        shared.open_session(id, total, &tx);
                        shared.note("resume");
                    }
                    _ => {}
                }
            }
            command = rx.recv() => {
                match command {
                    Some(GatewayCommand::Dispatch(t, d)) => {
                        let s = shared.next_seq(shard);
                        if !send(&mut socket, json!({ "op": 0, "s": s, "t": t, "d": d })).await { break; }
                    }
                    Some(GatewayCommand::Raw(payload)) => {
                        shared.note(format!("sent op {}", payload["op"]));
                        if !send(&mut socket, payload).await { break; }
                    }
                    Some(GatewayCommand::Drop) | None => {
                        forget_sender(&shared, &tx);
                        shared.note("dropped");
                        return;
                    }
                }
            }
        }
    }
    forget_sender(&shared, &tx);
    shared.note("closed");
}

/// A connection that ends stops being the one its shard's dispatches go to.
fn forget_sender(shared: &Shared, tx: &mpsc::UnboundedSender<GatewayCommand>) {
    shared.sessions.locked().retain(|s| !s.tx.same_channel(tx));
}

/// Every REST call: recorded, validated, then answered.
async fn rest(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (json_body, files) = if let Some(boundary) = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .map(|b| b.trim_matches('"').to_string())
    {
        multipart(&body, &boundary)
    } else if body.is_empty() {
        (None, Vec::new())
    } else {
        (serde_json::from_slice(&body).ok(), Vec::new())
    };
    let validate = !shared.skip_validation.load(Ordering::Relaxed);
    let spec_error = match &json_body {
        Some(b) if validate && method != Method::GET => {
            spec::validate(method.as_str(), &path, b).err()
        }
        _ => None,
    };
    let request = Request {
        method: method.to_string(),
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body: json_body.clone(),
        files,
        spec_error,
        at: std::time::Instant::now(),
    };
    let authorised = request.header("authorization") == Some(&format!("Bot {TOKEN}"));
    let fault = take_fault(&shared, &request);
    shared.requests.locked().push(request);
    shared.changed.notify_waiters();

    if !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "message": "401: Unauthorized", "code": 0 })),
        )
            .into_response();
    }
    if let Some(fault) = fault {
        if fault.accept {
            let answered = answer(&shared, &method, &path, json_body.as_ref());
            if let Some(delay) = fault.delay {
                tokio::time::sleep(delay).await;
                return answered;
            }
        }
        let mut response = (
            StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(fault.body),
        )
            .into_response();
        for (k, v) in fault.headers {
            if let (Ok(k), Ok(v)) = (
                axum::http::HeaderName::from_bytes(k.as_bytes()),
                axum::http::HeaderValue::from_str(&v),
            ) {
                response.headers_mut().insert(k, v);
            }
        }
        return response;
    }
    answer(&shared, &method, &path, json_body.as_ref())
}

/// The `payload_json` part and the files of a multipart body.
fn multipart(body: &[u8], boundary: &str) -> (Option<Value>, Vec<(String, Vec<u8>)>) {
    let delimiter = format!("--{boundary}");
    let mut json = None;
    let mut files = Vec::new();
    for part in split_bytes(body, delimiter.as_bytes()) {
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let mut content = &part[split + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        if head.contains("name=\"payload_json\"") {
            json = serde_json::from_slice(content).ok();
        } else if let Some(start) = head.find("filename=\"") {
            let name = head[start + 10..]
                .split('"')
                .next()
                .unwrap_or_default()
                .to_string();
            files.push((name, content.to_vec()));
        }
    }
    (json, files)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(body, delimiter) {
        if at > 0 {
            parts.push(&body[..at]);
        }
        body = &body[at + delimiter.len()..];
    }
    parts
}

fn take_fault(shared: &Shared, request: &Request) -> Option<Fault> {
    let mut faults = shared.faults.locked();
    let index = faults
        .iter()
        .position(|f| f.method == request.method && request.path.contains(&f.path_contains))?;
    if let Some(fault) = faults.get_mut(index)
        && fault.passes > 0
    {
        fault.passes -= 1;
        return None;
    }
    if faults.get(index).is_some_and(|f| f.lasting) {
        return faults.get(index).cloned();
    }
    faults.remove(index)
}

fn answer(shared: &Shared, method: &Method, path: &str, body: Option<&Value>) -> Response {
    let p = path.strip_prefix("/api/v10").unwrap_or(path);
    let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
    let new_message = || {
        let id = shared.message_ids.fetch_add(1, Ordering::Relaxed);
        let content = body.and_then(|b| b["content"].as_str()).unwrap_or_default();
        ok(fixtures::message_response(id, content))
    };
    match (method.as_str(), p) {
        ("GET", "/gateway") => {
            let url = shared.gateway_url.locked().clone();
            ok(json!({ "url": url }))
        }
        // Discord recommends a shard per 1,000 servers (the fake knows one),
        // and counts session starts down from 1,000 a day.
        ("GET", "/gateway/bot") => {
            let url = shared.gateway_url.locked().clone();
            let started = shared.identifies.load(Ordering::Relaxed);
            ok(json!({
                "url": url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000u64.saturating_sub(started),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }))
        }
        ("GET", "/users/@me") => {
            let mut me = fixtures::user(fixtures::ADMIN);
            me["id"] = json!(fixtures::BOT_USER_ID);
            me["username"] = json!("companion");
            me["bot"] = json!(true);
            ok(me)
        }
        ("PUT", p) if p.ends_with("/commands") => ok(json!([])),
        ("POST", "/users/@me/channels") => {
            let id = shared.message_ids.fetch_add(1, Ordering::Relaxed);
            let recipient = body
                .and_then(|b| b["recipient_id"].as_str())
                .unwrap_or_default();
            ok(
                json!({ "id": id.to_string(), "type": 1, "recipients": [{ "id": recipient, "username": "member", "discriminator": "0", "avatar": null }] }),
            )
        }
        ("POST", p) if p.starts_with("/interactions/") && p.ends_with("/callback") => {
            StatusCode::NO_CONTENT.into_response()
        }
        // A thread on a message: on one Discord has (else 404), once per
        // message (else 400, code 160004), with the message's id.
        ("POST", p) if p.starts_with("/channels/") && p.ends_with("/threads") => {
            let mut parts = p
                .trim_start_matches("/channels/")
                .trim_end_matches("/threads")
                .split("/messages/");
            let channel = parts.next().unwrap_or_default().to_string();
            let message: u64 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
            let name = body
                .and_then(|b| b["name"].as_str())
                .unwrap_or_default()
                .to_string();
            let exists = shared
                .created
                .locked()
                .iter()
                .any(|c| c.channel == channel && c.id == message);
            if !exists {
                return (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({ "message": "Unknown Message", "code": 10008 })),
                )
                    .into_response();
            }
            let mut threads = shared.threads.locked();
            if threads.iter().any(|t| t.message == message) {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({ "message": "A thread has already been created for this message", "code": 160004 })),
                )
                    .into_response();
            }
            threads.push(Thread {
                channel,
                message,
                name: name.clone(),
            });
            ok(json!({ "id": message.to_string(), "type": 11, "name": name }))
        }
        ("POST", p) if p.starts_with("/channels/") && p.ends_with("/messages") => {
            let channel = p
                .trim_start_matches("/channels/")
                .trim_end_matches("/messages")
                .to_string();
            let nonce = body.and_then(|b| b["nonce"].as_str()).map(str::to_string);
            let enforce = body.is_some_and(|b| b["enforce_nonce"] == true);
            let mut created = shared.created.locked();
            // Discord's enforce_nonce: the same nonce again returns the message already made.
            if let Some(existing) = created
                .iter()
                .find(|c| enforce && c.nonce.is_some() && c.nonce == nonce)
            {
                return ok(fixtures::message_response(existing.id, ""));
            }
            let id = shared.message_ids.fetch_add(1, Ordering::Relaxed);
            created.push(Created { channel, id, nonce });
            let content = body.and_then(|b| b["content"].as_str()).unwrap_or_default();
            ok(fixtures::message_response(id, content))
        }
        ("DELETE", p) if p.starts_with("/channels/") && p.contains("/messages/") => {
            let mut parts = p.trim_start_matches("/channels/").split("/messages/");
            let channel = parts.next().unwrap_or_default().to_string();
            let id: u64 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
            let mut created = shared.created.locked();
            match created
                .iter()
                .position(|c| c.channel == channel && c.id == id)
            {
                Some(i) => {
                    created.remove(i);
                    StatusCode::NO_CONTENT.into_response()
                }
                None => (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({ "message": "Unknown Message", "code": 10008 })),
                )
                    .into_response(),
            }
        }
        ("PATCH", p) if p.starts_with("/channels/") && !p.contains("/messages") => {
            let id = p.trim_start_matches("/channels/").to_string();
            let archived = body.and_then(|b| b["archived"].as_bool()).unwrap_or(false);
            ok(json!({
                "id": id, "type": 11, "name": "thread",
                "thread_metadata": { "archived": archived, "auto_archive_duration": 10080, "archive_timestamp": "2026-11-24T10:00:00.000000+00:00", "locked": false }
            }))
        }
        ("POST", p) if p.starts_with("/guilds/") && p.ends_with("/scheduled-events") => {
            let guild = p
                .trim_start_matches("/guilds/")
                .trim_end_matches("/scheduled-events");
            let id = shared.message_ids.fetch_add(1, Ordering::Relaxed);
            let event = fixtures::scheduled_event(id, guild, body.unwrap_or(&Value::Null));
            shared.scheduled_events.locked().push(event.clone());
            // Waiters probing the events look again now that it exists.
            shared.changed.notify_waiters();
            ok(event)
        }
        ("GET", p) if p.starts_with("/guilds/") && p.ends_with("/scheduled-events") => {
            let guild = p
                .trim_start_matches("/guilds/")
                .trim_end_matches("/scheduled-events");
            let events: Vec<Value> = shared
                .scheduled_events
                .locked()
                .iter()
                .filter(|e| e["guild_id"] == guild)
                .cloned()
                .collect();
            ok(json!(events))
        }
        (m @ ("GET" | "PATCH" | "DELETE"), p)
            if p.starts_with("/guilds/") && p.contains("/scheduled-events/") =>
        {
            let id = p.rsplit('/').next().unwrap_or_default();
            let mut events = shared.scheduled_events.locked();
            let Some(i) = events.iter().position(|e| e["id"] == id) else {
                return (
                    StatusCode::NOT_FOUND,
                    axum::Json(
                        json!({ "message": "Unknown Guild Scheduled Event", "code": 10070 }),
                    ),
                )
                    .into_response();
            };
            if m == "GET" {
                return ok(events[i].clone());
            }
            if m == "DELETE" {
                events.remove(i);
                return StatusCode::NO_CONTENT.into_response();
            }
            if let Some(Value::Object(changes)) = body {
                for (k, v) in changes {
                    events[i][k] = v.clone();
                }
            }
            ok(events[i].clone())
        }
        ("GET", p) if p.starts_with("/guilds/") && p.contains("/members/") => {
            let id: u64 = p
                .rsplit('/')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let known = [fixtures::ALICE, fixtures::BOB, fixtures::ADMIN]
                .into_iter()
                .find(|m| m.id == id && !shared.left.locked().contains(&id));
            match known {
                Some(m) => ok(fixtures::member(m)),
                None => (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({ "message": "Unknown Member", "code": 10007 })),
                )
                    .into_response(),
            }
        }
        ("POST", p) if p.starts_with("/webhooks/") => new_message(),
        ("PATCH", p) if p.starts_with("/webhooks/") => new_message(),
        ("GET", p) if p.starts_with("/webhooks/") => new_message(),
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "message": "404: Not Found", "code": 0 })),
        )
            .into_response(),
    }
}
