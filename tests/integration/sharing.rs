//! Sharing a reflection into the group's weekly thread, end to end through
//! the fake Discord: consent bound to the exact preview, the confidentiality
//! check before anything is posted, one post per reflection, withdrawal by
//! the author alone, and delete and forget-me taking the posts down too.
//! Two members and an admin try every path.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use practice_companion::clock::ManualClock;
use serde_json::{Value, json};

use crate::bot::{Bot, scratch_dir};
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ADMIN, ALICE, BOB, CHANNEL_ID, GUILD_ID, Member};
use crate::replies::{content, is_ephemeral, schedule_set};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// A click; those that call Discord before answering are deferred.
async fn click(fake: &FakeDiscord, who: Member, custom_id: &str) -> Value {
    let button = fixtures::button(fake.next_id(), who, custom_id);
    let deferred = [
        "share:",
        "withdraw:",
        "delete:",
        "delete-anyway:",
        "forget:",
    ];
    if deferred.iter().any(|p| custom_id.starts_with(p)) {
        let answer = fake.interact_deferred(button).await;
        assert!(is_ephemeral(&answer), "{answer}");
        answer
    } else {
        fake.interact(button).await
    }
}

async fn write(fake: &FakeDiscord, who: Member, purpose: &str, title: &str, text: &str) -> Value {
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        who,
        purpose,
        &[("title", title), ("text", text), ("tags", "C1.5")],
    ))
    .await
}

fn buttons(reply: &Value) -> Vec<String> {
    reply["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect()
}

fn share_button(reply: &Value, how: &str) -> String {
    buttons(reply)
        .into_iter()
        .find(|b| b.starts_with("share:") && b.contains(how))
        .unwrap_or_else(|| panic!("no {how} share button in {reply}"))
}

/// A bot whose server has posted its competence of the week (Sunday 29
/// November, 10:00 London), so the week's thread is open for sharing.
async fn with_a_weekly_thread(fake: &FakeDiscord) -> Bot {
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 29, 9, 0)));
    let mut bot = Bot::start_with_clock(fake, false, scratch_dir(), None, clock.clone()).await;
    let options = schedule_set(CHANNEL_ID, 6, "10:00", "Europe/London");
    fake.command_in(ADMIN, "schedule", options, GUILD_ID, CHANNEL_ID)
        .await;
    clock.set(utc(2026, 11, 29, 10, 0));
    bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert!(fake.requests().iter().any(|r| r.path.ends_with("/threads")));
    bot
}

fn deletes(fake: &FakeDiscord) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "DELETE" && r.path.contains("/messages/"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_acts_only_on_the_previewed_text_once_and_can_be_withdrawn() {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let mut bot = Bot::start_with_clock(&fake, false, scratch_dir(), None, clock.clone()).await;
    let first = "What I learned about contracting with Tom this week.";
    write(&fake, ALICE, "reflect:new:free", "My client Tom", first).await;

    // No weekly thread yet: nothing can be shared.
    let early = click(&fake, ALICE, "share-ask:1").await;
    assert!(content(&early).contains("no weekly thread"), "{early}");

    let options = schedule_set(CHANNEL_ID, 6, "10:00", "Europe/London");
    fake.command_in(ADMIN, "schedule", options, GUILD_ID, CHANNEL_ID)
        .await;
    clock.set(utc(2026, 11, 29, 10, 0));
    bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert!(fake.requests().iter().any(|r| r.path.ends_with("/threads")));

    // The preview: exactly what the group would see, and the
    // confidentiality check on the title, with an Edit button.
    let preview = click(&fake, ALICE, "share-ask:1").await;
    assert!(is_ephemeral(&preview));
    assert_eq!(preview["data"]["embeds"][0]["description"], first);
    assert_eq!(preview["data"]["embeds"][0]["title"], "My client Tom");
    let said = content(&preview);
    assert!(
        said.contains("Before you share") && said.contains("someone's name"),
        "{said}"
    );
    assert!(!said.contains("Tom"), "the check never repeats the detail");
    assert!(buttons(&preview).contains(&"edit:1".to_string()));
    assert!(buttons(&preview).contains(&"cancel:share".to_string()));
    let stale = share_button(&preview, ":anon:");

    // Alice edits after the preview: the old button shares nothing and
    // shows the new text instead.
    let second = "What I learned about contracting this week.";
    write(&fake, ALICE, "reflect:edit:1", "Contracting", second).await;
    let posts_before = fake.created().len();
    let fresh = click(&fake, ALICE, &stale).await;
    assert!(
        content(&fresh).contains("changed since that preview"),
        "{fresh}"
    );
    assert_eq!(fresh["data"]["embeds"][0]["description"], second);
    assert_eq!(fake.created().len(), posts_before, "nothing was posted");
    let anon = share_button(&fresh, ":anon:");
    assert_ne!(anon, stale);
    assert!(
        !content(&fresh).contains("Before you share"),
        "the new title and text raise nothing"
    );

    // Bob and the admin cannot share or withdraw Alice's reflection.
    for who in [BOB, ADMIN] {
        for id in [anon.as_str(), "withdraw:1", "share-ask:1"] {
            let forged = click(&fake, who, id).await;
            assert!(
                content(&forged).contains("You have no reflection #1"),
                "{forged}"
            );
        }
    }
    assert_eq!(fake.created().len(), posts_before);

    // Shared once; a second click posts nothing more.
    let done = click(&fake, ALICE, &anon).await;
    assert!(content(&done).contains("anonymously"), "{done}");
    assert_eq!(fake.created().len(), posts_before + 1);
    let again = click(&fake, ALICE, &anon).await;
    assert!(content(&again).contains("already shared"), "{again}");
    assert_eq!(fake.created().len(), posts_before + 1, "no double post");
    let shared = fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST" && r.json().to_string().contains(second))
        .expect("the shared post");
    assert_eq!(
        shared.json()["embeds"][0]["author"]["name"],
        "Shared by a member"
    );
    assert!(!shared.json().to_string().contains("alice"));
    assert_eq!(shared.json()["allowed_mentions"]["parse"], json!([]));

    // An edit now says the post still shows the earlier version.
    let edited = write(
        &fake,
        ALICE,
        "reflect:edit:1",
        "Contracting",
        "Revised again.",
    )
    .await;
    assert!(content(&edited).contains("still shows the earlier version"));

    // The view offers withdrawal; withdrawing deletes the post.
    let view = fake
        .command(
            ALICE,
            "reflections",
            json!([{ "name": "view", "type": 1, "options": [{ "name": "number", "type": 4, "value": 1 }] }]),
        )
        .await;
    assert!(buttons(&view).contains(&"withdraw:1".to_string()), "{view}");
    let withdrawn = click(&fake, ALICE, "withdraw:1").await;
    assert!(content(&withdrawn).contains("withdrawn"), "{withdrawn}");
    assert_eq!(deletes(&fake), 1);
    assert_eq!(fake.created().len(), posts_before, "the post is gone");
    let twice = click(&fake, ALICE, "withdraw:1").await;
    assert!(content(&twice).contains("not shared anywhere"), "{twice}");

    // Shared again, then deleted: the post goes with it.
    let preview = click(&fake, ALICE, "share-ask:1").await;
    click(&fake, ALICE, &share_button(&preview, ":named:")).await;
    assert_eq!(fake.created().len(), posts_before + 1);
    let gone = click(&fake, ALICE, "delete:1").await;
    assert!(
        content(&gone).contains("1 shared post in the group's threads was withdrawn"),
        "{gone}"
    );
    assert_eq!(fake.created().len(), posts_before);

    // Forget-me takes every shared post down and says so; the numbers are
    // never reused, so an old button reaches nothing.
    write(&fake, ALICE, "reflect:new:free", "", "Another one.").await;
    let preview = click(&fake, ALICE, "share-ask:2").await;
    let old_share = share_button(&preview, ":anon:");
    click(&fake, ALICE, &old_share).await;
    write(&fake, BOB, "reflect:new:free", "", "Bob's own.").await;
    let bobs = click(&fake, BOB, "share-ask:1").await;
    click(&fake, BOB, &share_button(&bobs, ":anon:")).await;
    assert_eq!(fake.created().len(), posts_before + 2);
    let forgot = click(&fake, ALICE, "forget:confirm").await;
    let said = content(&forgot);
    assert!(
        said.contains("Done: 1 reflection")
            && said.contains("1 shared post in the group's threads was withdrawn"),
        "{said}"
    );
    assert_eq!(fake.created().len(), posts_before + 1, "Bob's post stays");
    let renewed = write(&fake, ALICE, "reflect:new:free", "", "A fresh start.").await;
    assert!(
        content(&renewed).contains("Saved as reflection #101"),
        "{renewed}"
    );
    for stale in [old_share.as_str(), "edit:2", "delete:2", "withdraw:2"] {
        let reply = click(&fake, ALICE, stale).await;
        assert!(
            content(&reply).contains("You have no reflection #2"),
            "{stale}: {reply}"
        );
    }
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// A post that cannot be removed (the thread was archived, or the bot lost
/// access) is reported, kept on record, and withdrawn on a later try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_that_cannot_be_withdrawn_is_reported_and_kept_for_a_retry() {
    let fake = FakeDiscord::start().await;
    let bot = with_a_weekly_thread(&fake).await;
    write(&fake, ALICE, "reflect:new:free", "", "To be shared.").await;
    let preview = click(&fake, ALICE, "share-ask:1").await;
    click(&fake, ALICE, &share_button(&preview, ":anon:")).await;
    let posts = fake.created().len();

    let missing = || json!({ "message": "Missing Access", "code": 50001 });
    fake.fail_next("DELETE", "/messages/", 403, missing(), &[]);
    let refused = click(&fake, ALICE, "withdraw:1").await;
    let said = content(&refused);
    assert!(
        said.contains("could not be removed just now")
            && said.contains("https://discord.com/channels/"),
        "the post that stays is linked: {said}"
    );
    assert_eq!(fake.created().len(), posts);
    let retry = click(&fake, ALICE, "withdraw:1").await;
    assert!(content(&retry).contains("withdrawn"), "{retry}");
    assert_eq!(fake.created().len(), posts - 1);

    // A post in a thread the week has archived: the thread is reopened for
    // the deletion and archived again.
    let preview = click(&fake, ALICE, "share-ask:1").await;
    click(&fake, ALICE, &share_button(&preview, ":anon:")).await;
    let archived = || json!({ "message": "Thread is archived", "code": 50083 });
    fake.fail_next("DELETE", "/messages/", 400, archived(), &[]);
    let reopened = click(&fake, ALICE, "withdraw:1").await;
    assert!(
        content(&reopened).contains("1 shared post in the group's threads was withdrawn"),
        "{reopened}"
    );
    assert_eq!(fake.created().len(), posts - 1);
    let toggles: Vec<bool> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with("/api/v10/channels/"))
        .map(|r| r.json()["archived"].as_bool().unwrap_or_default())
        .collect();
    assert_eq!(toggles, [false, true], "reopened, then archived again");

    // Delete while the post cannot be withdrawn: the reflection is kept (so
    // the post can still be withdrawn) unless the member says otherwise.
    let preview = click(&fake, ALICE, "share-ask:1").await;
    click(&fake, ALICE, &share_button(&preview, ":anon:")).await;
    fake.fail_next("DELETE", "/messages/", 403, missing(), &[]);
    let kept = click(&fake, ALICE, "delete:1").await;
    assert!(content(&kept).contains("is not deleted yet"), "{kept}");
    assert!(
        buttons(&kept).contains(&"delete-anyway:1".to_string()),
        "{kept}"
    );
    let view = fake
        .command(
            ALICE,
            "reflections",
            json!([{ "name": "view", "type": 1, "options": [{ "name": "number", "type": 4, "value": 1 }] }]),
        )
        .await;
    assert!(
        buttons(&view).contains(&"withdraw:1".to_string()),
        "still on record: {view}"
    );
    fake.fail_next("DELETE", "/messages/", 403, missing(), &[]);
    let anyway = click(&fake, ALICE, "delete-anyway:1").await;
    let said = content(&anyway);
    assert!(
        said.contains("#1 is deleted") && said.contains("it stays in the thread"),
        "{said}"
    );

    // Forget-me when a post cannot be removed: everything is erased, and the
    // post that stays is linked.
    write(
        &fake,
        ALICE,
        "reflect:new:free",
        "",
        "Shared, then forgotten.",
    )
    .await;
    let preview = click(&fake, ALICE, "share-ask:2").await;
    click(&fake, ALICE, &share_button(&preview, ":anon:")).await;
    fake.fail_next("DELETE", "/messages/", 403, missing(), &[]);
    let forgot = click(&fake, ALICE, "forget:confirm").await;
    let said = content(&forgot);
    assert!(
        said.contains("Done: 1 reflection") && said.contains("https://discord.com/channels/"),
        "{said}"
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// A second click while a share is being posted waits for the first and
/// posts nothing; forget-me at the same moment leaves nothing of the
/// member's posted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clicks_post_once_and_forget_me_takes_everything_down() {
    let fake = FakeDiscord::start().await;
    let bot = with_a_weekly_thread(&fake).await;
    write(&fake, ALICE, "reflect:new:free", "", "Clicked twice.").await;
    let preview = click(&fake, ALICE, "share-ask:1").await;
    let share = share_button(&preview, ":anon:");
    let posts = fake.created().len();

    // The post is slow to answer; the second click arrives meanwhile.
    fake.hang_next("POST", "/messages", std::time::Duration::from_millis(400));
    let (a, b) = tokio::join!(click(&fake, ALICE, &share), click(&fake, ALICE, &share));
    let said = [content(&a), content(&b)];
    assert_eq!(fake.created().len(), posts + 1, "posted once: {said:?}");
    assert!(
        said.iter().any(|s| s.contains("already shared")),
        "{said:?}"
    );

    // Withdrawn, shared again slowly, and forget-me at the same moment:
    // whichever runs first, nothing of Alice's stays posted.
    click(&fake, ALICE, "withdraw:1").await;
    let preview = click(&fake, ALICE, "share-ask:1").await;
    let share = share_button(&preview, ":anon:");
    fake.hang_next("POST", "/messages", std::time::Duration::from_millis(400));
    let (a, f) = tokio::join!(
        click(&fake, ALICE, &share),
        click(&fake, ALICE, "forget:confirm")
    );
    assert_eq!(
        fake.created().len(),
        posts,
        "{} / {}",
        content(&a),
        content(&f)
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}
