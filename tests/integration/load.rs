//! Load, through the fake Discord: many members saving at once lose nothing
//! they were told was saved; fifty servers over a simulated year get exactly
//! one post per slot each.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use practice_companion::clock::ManualClock;
use practice_companion::discord::scheduler::SchedulerEvent;
use serde_json::{Value, json};

use crate::bot::{Bot, scratch_dir};
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ADMIN, Member};
use crate::replies::schedule_set;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_members_saving_at_once_lose_nothing_confirmed() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let members: Vec<Member> = (0..100u64)
        .map(|i| Member {
            id: 200_000_000_000_000_000 + i,
            name: "member",
            permissions: "0",
            bot: false,
        })
        .collect();
    let mut ids = Vec::new();
    for m in &members {
        let id = fake.next_id();
        ids.push(id);
        let text = format!("Reflection of member {}", m.id);
        fake.dispatch(
            "INTERACTION_CREATE",
            fixtures::modal_submit(
                id,
                *m,
                "reflect:new:free",
                &[("text", &text), ("tags", "C2.3")],
            ),
        );
    }
    // On a busy machine a save may take longer than Discord allows for a
    // first answer: the form is then acknowledged and its answer follows.
    for id in &ids {
        let answer = fake.form_answer_for(&id.to_string()).await;
        let said = answer["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(said.contains("Saved as reflection #1"), "{said}");
    }
    // Every member, and only that member, finds their own reflection.
    for m in &members {
        let view = fake.command(*m,
                "reflections",
                json!([{ "name": "view", "type": 1, "options": [{ "name": "number", "type": 4, "value": 1 }] }]),
            )
            .await;
        let text = view["data"]["embeds"][0]["description"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(text, format!("Reflection of member {}", m.id));
    }
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_servers_over_a_simulated_year_get_one_post_per_slot() {
    let fake = FakeDiscord::start().await;
    fake.skip_validation();
    let start = Utc.with_ymd_and_hms(2026, 1, 4, 11, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let mut bot = Bot::start_with_clock(&fake, false, scratch_dir(), None, clock.clone()).await;
    let servers: Vec<(String, String)> = (0..50u64)
        .map(|i| {
            (
                (410_000_000_000_000_000 + i).to_string(),
                (510_000_000_000_000_000 + i).to_string(),
            )
        })
        .collect();
    for (guild, channel) in &servers {
        let options = schedule_set(channel, 6, "10:00", "Europe/London");
        fake.command_in(ADMIN, "schedule", options, guild, channel)
            .await;
    }
    bot.ticked(start).await;
    // Sundays at 10:00 London time, a year of them: the clock moves to an hour
    // or two after each slot (10:00 GMT, 09:00 UTC in summer time).
    let mut posted = 0;
    let mut now = start;
    for _ in 0..52 {
        now += Duration::weeks(1);
        clock.set(now);
        let events = bot.ticked(now).await;
        posted += events
            .iter()
            .filter(|e| matches!(e, SchedulerEvent::Posted { .. }))
            .count();
    }
    let created = fake.created();
    let mut per_channel: HashMap<String, usize> = HashMap::new();
    let mut nonces = HashSet::new();
    for c in &created {
        *per_channel.entry(c.channel.clone()).or_default() += 1;
        assert!(
            nonces.insert(c.nonce.clone()),
            "a nonce used twice: {:?}",
            c.nonce
        );
    }
    assert_eq!(posted, 50 * 52);
    for (_, channel) in &servers {
        assert_eq!(per_channel.get(channel), Some(&52), "channel {channel}");
    }
    // Each server cycled through distinct competences: 52 weeks, 60 competences.
    let firsts: Vec<Value> = fake
        .requests()
        .iter()
        .filter(|r| {
            r.method == "POST" && r.path == format!("/api/v10/channels/{}/messages", servers[0].1)
        })
        .map(|r| r.json()["embeds"][0]["title"].clone())
        .collect();
    let distinct: HashSet<String> = firsts.iter().map(Value::to_string).collect();
    assert_eq!(distinct.len(), 52, "no competence repeats within the year");
    bot.stop().await;
}
