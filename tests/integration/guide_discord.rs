//! `/guide` end to end through the fake Discord: a section shown publicly,
//! verbatim; the contents privately, with a menu that opens a section; a long
//! section part by part, with a button to the next part; errors for a part
//! or a section that does not exist; autocomplete on the sections; sections
//! among `/search`'s results; and a competence card's button to the sections
//! that discuss it. Every body the bot sends is validated against the spec.

use practice_companion::{CompetenceId, Framework, Section, render};
use serde_json::{Value, json};

use crate::bot::Bot;
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ALICE, BOB};
use crate::replies::{code_option, content, embed_titles, is_ephemeral};

fn framework() -> Framework {
    Framework::builtin().expect("the built-in framework loads")
}

fn section<'f>(f: &'f Framework, id: &str) -> &'f Section {
    f.section(id)
        .unwrap_or_else(|| panic!("section `{id}` exists"))
}

/// The options of `/guide`: `section` and `part`, each when given.
fn guide_options(section: Option<&str>, part: Option<u64>) -> Value {
    let mut options = Vec::new();
    if let Some(s) = section {
        options.push(json!({ "name": "section", "type": 3, "value": s }));
    }
    if let Some(p) = part {
        options.push(json!({ "name": "part", "type": 4, "value": p }));
    }
    Value::Array(options)
}

/// Every button of a reply, in order: (custom id, label).
fn buttons(reply: &Value) -> Vec<(String, String)> {
    reply["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["type"] == 2)
        .map(|b| {
            (
                b["custom_id"].as_str().unwrap_or_default().to_string(),
                b["label"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The select menu of a reply (the first one), if any.
fn menu(reply: &Value) -> Option<Value> {
    reply["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .find(|c| c["type"] == 3)
}

/// The values of a select menu's options.
fn menu_values(menu: &Value) -> Vec<String> {
    menu["options"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["value"].as_str().map(str::to_string))
        .collect()
}

fn description(reply: &Value, embed: usize) -> String {
    reply["data"]["embeds"][embed]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Every message the bot sent allows no mentions: `parse` is empty and no
/// user or role is listed.
fn assert_mentions_empty(reply: &Value) {
    let allowed = &reply["data"]["allowed_mentions"];
    assert_eq!(allowed["parse"], json!([]), "{reply}");
    for key in ["users", "roles"] {
        assert!(
            allowed[key].as_array().is_none_or(Vec::is_empty),
            "{key}: {allowed}"
        );
    }
}

/// The first section of the guide long enough to be shown in several parts,
/// with its parts as the core renders them.
fn a_long_section(f: &Framework) -> (&Section, Vec<render::Card>) {
    f.sections()
        .iter()
        .map(|s| (s, render::section_cards(f, s)))
        .find(|(_, cards)| cards.len() > 1)
        .expect("some section of the guide is long enough for several parts")
}

const SUPERVISION_SENTENCE: &str = "As is the case for those working solely as therapists, there is an expectation that BACP members working as coaches or integrating coaching and therapy will make appropriate use of supervision.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_section_is_shown_publicly_verbatim_without_mentions() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;

    let reply = fake
        .command(
            ALICE,
            "guide",
            guide_options(Some("role-of-supervision"), None),
        )
        .await;
    assert_eq!(reply["type"], 4, "answered at once: {reply}");
    assert!(!is_ephemeral(&reply), "the guide is for the discussion");
    assert_eq!(embed_titles(&reply), ["The role of supervision"]);
    let text = description(&reply, 0);
    assert!(text.contains(SUPERVISION_SENTENCE), "{text}");
    // The whole section, word for word: it fits one card.
    let f = framework();
    let s = section(&f, "role-of-supervision");
    assert_eq!(text, s.text.trim());
    assert_mentions_empty(&reply);
    assert!(
        buttons(&reply)
            .iter()
            .all(|(id, _)| !id.starts_with("guide:")),
        "a one-part section has no button to a next part: {reply}"
    );

    // The title typed instead of the id, in other case, finds the same section.
    let by_title = fake
        .command(
            BOB,
            "guide",
            guide_options(Some("The Role of Supervision"), None),
        )
        .await;
    assert_eq!(embed_titles(&by_title), ["The role of supervision"]);
    assert!(!is_ephemeral(&by_title));

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contents_are_private_and_their_menu_opens_a_section() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let f = framework();

    let contents = fake.command(ALICE, "guide", json!([])).await;
    assert_eq!(contents["type"], 4, "{contents}");
    assert!(is_ephemeral(&contents), "the contents are for the asker");
    assert_eq!(contents["data"]["embeds"].as_array().map(Vec::len), Some(1));
    let listed = description(&contents, 0);
    for s in f.sections() {
        assert!(
            listed.contains(&s.title),
            "the contents list “{}”: {listed}",
            s.title
        );
    }
    let menu = menu(&contents).expect("a menu to open a section");
    assert_eq!(menu["custom_id"], "search-results");
    let values = menu_values(&menu);
    assert!(!values.is_empty(), "{menu}");
    assert!(values.len() <= 25, "Discord's limit on options");
    for v in &values {
        assert!(v.starts_with("guide:"), "{v}");
    }
    assert!(
        values.contains(&"guide:definition-coaching:1".to_string()),
        "{values:?}"
    );
    assert_mentions_empty(&contents);

    let opened = fake
        .interact(fixtures::select(
            fake.next_id(),
            ALICE,
            "search-results",
            "guide:definition-coaching:1",
        ))
        .await;
    assert_eq!(opened["type"], 4, "{opened}");
    assert!(is_ephemeral(&opened), "a click answers privately");
    assert_eq!(embed_titles(&opened), ["Coaching"]);
    assert_eq!(
        description(&opened, 0),
        section(&f, "definition-coaching").text.trim()
    );
    assert_mentions_empty(&opened);

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_section_is_read_part_by_part_and_errors_are_private() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let f = framework();
    let (long, cards) = a_long_section(&f);
    let n = cards.len();

    let first = fake
        .command(ALICE, "guide", guide_options(Some(&long.id), None))
        .await;
    assert!(!is_ephemeral(&first));
    assert_eq!(
        embed_titles(&first),
        [format!("{} (part 1 of {n})", long.title)]
    );
    assert_eq!(description(&first, 0), cards[0].description);
    let next_id = format!("guide:{}:2", long.id);
    let next = buttons(&first)
        .into_iter()
        .find(|(id, _)| *id == next_id)
        .unwrap_or_else(|| panic!("a button {next_id}: {first}"));
    assert!(next.1.starts_with("Part 2: "), "{next:?}");
    assert_eq!(next.1, format!("Part 2: {}", long.title));
    assert_mentions_empty(&first);

    let second = fake
        .interact(fixtures::button(fake.next_id(), ALICE, &next_id))
        .await;
    assert_eq!(second["type"], 4, "{second}");
    assert!(is_ephemeral(&second), "a click answers privately");
    assert_eq!(
        embed_titles(&second),
        [format!("{} (part 2 of {n})", long.title)]
    );
    assert_eq!(description(&second, 0), cards[1].description);
    let onward: Vec<String> = buttons(&second)
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| id.starts_with(&format!("guide:{}:", long.id)))
        .collect();
    if n == 2 {
        assert!(onward.is_empty(), "the last part has no next: {onward:?}");
    } else {
        assert_eq!(onward, [format!("guide:{}:3", long.id)]);
    }
    assert_mentions_empty(&second);

    // Every part, in order, is the whole section word for word.
    let mut read = Vec::new();
    for p in 1..=n {
        let part = fake
            .command(
                BOB,
                "guide",
                guide_options(
                    Some(&long.id),
                    Some(u64::try_from(p).expect("a small part")),
                ),
            )
            .await;
        assert_eq!(
            embed_titles(&part),
            [format!("{} (part {p} of {n})", long.title)]
        );
        read.push(description(&part, 0));
    }
    let words: Vec<&str> = read.iter().flat_map(|d| d.split_whitespace()).collect();
    let expected: Vec<&str> = long.text.split_whitespace().collect();
    assert_eq!(words, expected, "the parts together are the section");

    let too_far = fake
        .command(ALICE, "guide", guide_options(Some(&long.id), Some(99)))
        .await;
    assert!(is_ephemeral(&too_far), "an error is private: {too_far}");
    let said = content(&too_far);
    assert!(said.contains(&format!("{n} parts")), "{said}");
    assert!(said.contains("99"), "{said}");
    assert!(embed_titles(&too_far).is_empty());
    assert_mentions_empty(&too_far);

    let unknown = fake
        .command(ALICE, "guide", guide_options(Some("xqzvw"), None))
        .await;
    assert!(is_ephemeral(&unknown), "an error is private: {unknown}");
    let said = content(&unknown);
    assert!(said.contains("/guide"), "{said}");
    assert!(embed_titles(&unknown).is_empty(), "{unknown}");
    assert_mentions_empty(&unknown);

    // A click on a part that is not there (a stale or forged button) is
    // answered privately too.
    let stale = fake
        .interact(fixtures::button(
            fake.next_id(),
            ALICE,
            &format!("guide:{}:{}", long.id, n + 1),
        ))
        .await;
    assert!(is_ephemeral(&stale), "{stale}");
    assert!(embed_titles(&stale).is_empty(), "{stale}");

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_offers_sections_by_their_words() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;

    let partial = fake
        .interact(fixtures::autocomplete(
            fake.next_id(),
            ALICE,
            "guide",
            "section",
            "superv",
        ))
        .await;
    assert_eq!(partial["type"], 8, "{partial}");
    let choices = partial["data"]["choices"].as_array().expect("choices");
    assert!(
        choices.iter().any(|c| c["value"] == "role-of-supervision"),
        "{partial}"
    );

    let all = fake
        .interact(fixtures::autocomplete(
            fake.next_id(),
            ALICE,
            "guide",
            "section",
            "",
        ))
        .await;
    assert_eq!(all["type"], 8, "{all}");
    let choices = all["data"]["choices"].as_array().expect("choices");
    assert!(!choices.is_empty(), "nothing typed offers the sections");
    assert!(choices.len() <= 25, "{} choices", choices.len());
    let f = framework();
    for c in choices {
        let name = c["name"].as_str().expect("a name");
        assert!(!name.is_empty() && name.chars().count() <= 100, "{name:?}");
        let value = c["value"].as_str().expect("a string value");
        assert!(f.section(value).is_some(), "{value} is a section's id");
    }

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_lists_sections_and_its_menu_opens_them() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;

    let search = fake
        .command(
            ALICE,
            "search",
            json!([{ "name": "query", "type": 3, "value": "role of supervision" }]),
        )
        .await;
    assert!(is_ephemeral(&search));
    let listed = content(&search);
    assert!(listed.contains("The role of supervision"), "{listed}");
    let menu = menu(&search).expect("a results menu");
    assert_eq!(menu["custom_id"], "search-results");
    let values = menu_values(&menu);
    assert!(
        values.contains(&"guide:role-of-supervision:1".to_string()),
        "{values:?}"
    );
    assert_mentions_empty(&search);

    let opened = fake
        .interact(fixtures::select(
            fake.next_id(),
            ALICE,
            "search-results",
            "guide:role-of-supervision:1",
        ))
        .await;
    assert!(is_ephemeral(&opened));
    assert_eq!(embed_titles(&opened), ["The role of supervision"]);
    assert!(description(&opened, 0).contains(SUPERVISION_SENTENCE));

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_competence_card_links_to_the_sections_that_discuss_it() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let f = framework();
    let core_3_5: CompetenceId = "core:3.5".parse().expect("an id");
    let discussing: Vec<&str> = f
        .sections_discussing(core_3_5)
        .map(|s| s.id.as_str())
        .collect();
    assert!(
        discussing.contains(&"how-to-use") && discussing.contains(&"methodology-core"),
        "{discussing:?}"
    );

    let card = fake.command(ALICE, "competence", code_option("C3.5")).await;
    assert_eq!(embed_titles(&card), ["Core 3.5"]);
    let ids: Vec<String> = buttons(&card).into_iter().map(|(id, _)| id).collect();
    let first = format!("guide:{}:1", discussing[0]);
    let guide_at = ids
        .iter()
        .position(|id| *id == first)
        .unwrap_or_else(|| panic!("a button to {first}: {ids:?}"));
    let other_at = ids
        .iter()
        .position(|id| id == "open:integration:3.5")
        .unwrap_or_else(|| panic!("the same number, other domain: {ids:?}"));
    assert!(guide_at < other_at, "{ids:?}");
    assert_eq!(
        other_at,
        ids.len() - 1,
        "the other domain comes last: {ids:?}"
    );
    // Every guide button opens a section that discusses core 3.5, at part 1,
    // and comes after the see-also links.
    for (i, id) in ids.iter().enumerate() {
        if let Some(rest) = id.strip_prefix("guide:") {
            let section = rest.strip_suffix(":1").unwrap_or_else(|| panic!("{id}"));
            assert!(discussing.contains(&section), "{id}");
            assert!(
                ids[i..]
                    .iter()
                    .all(|later| !later.starts_with("open:core:")),
                "see-also links before the guide: {ids:?}"
            );
        }
    }
    let (_, label) = buttons(&card)
        .into_iter()
        .find(|(id, _)| *id == first)
        .expect("the guide button");
    assert_eq!(
        label,
        format!("Guide: {}", section(&f, discussing[0]).title)
    );
    assert_mentions_empty(&card);

    // The button opens the section, privately.
    let opened = fake
        .interact(fixtures::button(fake.next_id(), ALICE, &first))
        .await;
    assert!(is_ephemeral(&opened));
    let title = &section(&f, discussing[0]).title;
    assert!(
        embed_titles(&opened)
            .first()
            .is_some_and(|t| t.starts_with(title.as_str())),
        "{opened}"
    );

    bot.stop().await;
    fake.assert_bodies_valid();
}
