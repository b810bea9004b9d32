//! Reflections in Discord: the modal members write in, what happens when they
//! submit it, and running personal commands for whoever clicked or typed.
//! Every reply here is ephemeral; the member id always comes from Discord's
//! interaction, never from a custom id.

use poise::serenity_prelude as serenity;
use serenity::{CreateActionRow, CreateInputText, CreateModal, InputTextStyle, ModalInteraction};

use super::reply::custom_id::{self, ModalPurpose};
use super::reply::modal_input;
use super::{BotError, Data};
use crate::commands::Reply;
use crate::commands::personal::{self, Member, Personal};
use crate::reflections::{MAX_TITLE_CHARS, Mode, form, minutes_text, tags_text};
use crate::render::fit;

/// Longest reflection text Discord's form holds, in characters.
pub const FORM_TEXT_CHARS: usize = 4000;

/// How Discord shows a moment: a timestamp each reader's app shows in their
/// own time zone.
pub const TIMES: personal::Times = personal::Times::Written {
    moment: discord_moment,
    day: discord_day,
};

fn discord_moment(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("<t:{}:f>", t.timestamp())
}

fn discord_day(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("<t:{}:D>", t.timestamp())
}

/// The answer when Discord's form cannot hold a reflection for editing.
fn too_long_for_the_form(id: u64, chars: usize) -> String {
    format!(
        "Reflection #{id} is {chars} characters long, more than Discord's form holds ({FORM_TEXT_CHARS}), so it cannot be edited here without cutting it. Edit it where it was written, or `/reflections export` for a copy."
    )
}

/// Runs a personal command for `member`, who wrote from `guild` (if any).
pub fn answer(
    data: &Data,
    member: u64,
    guild: Option<u64>,
    command: Personal,
) -> Result<Reply, BotError> {
    let member = Member {
        framework: &data.framework,
        store: &data.store,
        id: member,
        now: data.clock.now(),
        guild,
        times: TIMES,
    };
    let erases = matches!(
        command,
        Personal::Edit(..)
            | Personal::AddTag(..)
            | Personal::Delete(_)
            | Personal::ForgetMe
            | Personal::Log(crate::commands::personal::LogCommand::Delete(_))
            | Personal::Cases(crate::commands::personal::CaseCommand::Delete(_))
    );
    let viewed = match command {
        Personal::View(n) => Some(crate::meetings::group::Source::Reflection(n)),
        Personal::Cases(crate::commands::personal::CaseCommand::View(n)) => {
            Some(crate::meetings::group::Source::Presentation(n))
        }
        _ => None,
    };
    let mut reply = personal::handle(&member, command)?;
    // In a server whose next meeting's agenda is open, a member's own
    // reflection or case presentation can be brought to it from where
    // they read it.
    if let (Some(from), Some(guild)) = (viewed, guild)
        && !reply.is_error
        && crate::meetings::group::agenda_open(&data.store.meetings(guild)?, member.now).is_ok()
    {
        reply.actions.push(match from {
            crate::meetings::group::Source::Reflection(n) => crate::commands::Action::Bring(n),
            crate::meetings::group::Source::Presentation(n) => {
                crate::commands::Action::BringPresentation(n)
            }
        });
    }
    if erases {
        // The scheduler's upkeep makes the erasure real within
        // `store::ERASE_WITHIN`: wake it to plan for that.
        data.scheduler.changed();
    }
    Ok(reply)
}

/// What a reflection form starts with.
#[derive(Default)]
pub struct Prefill<'a> {
    /// The title.
    pub title: &'a str,
    /// The text (a model's template, or the reflection being edited).
    pub text: &'a str,
    /// The tags, as typed.
    pub tags: &'a str,
    /// The kind of work, as written (a new form's is the default kind).
    pub mode: &'a str,
    /// Time spent, as written.
    pub minutes: &'a str,
}

/// The reflection modal: title, text, tags, mode, time spent (Discord's
/// five-field limit).
pub fn reflection_modal(
    custom_id: String,
    heading: &str,
    prefill: &Prefill<'_>,
    placeholder: &str,
) -> CreateModal {
    let Prefill {
        title,
        text,
        tags,
        mode,
        minutes,
    } = *prefill;
    let mut text_input = CreateInputText::new(
        InputTextStyle::Paragraph,
        "Your reflection",
        custom_id::FIELD_TEXT,
    )
    .required(true)
    .min_length(1)
    .max_length(FORM_TEXT_CHARS as u16)
    .placeholder(fit(placeholder, 100));
    if !text.is_empty() {
        text_input = text_input.value(fit(text, FORM_TEXT_CHARS));
    }
    let mut title_input = CreateInputText::new(
        InputTextStyle::Short,
        "Title (optional)",
        custom_id::FIELD_TITLE,
    )
    .required(false)
    .max_length(MAX_TITLE_CHARS as u16)
    .placeholder("A few words to find it again");
    if !title.is_empty() {
        title_input = title_input.value(fit(title, MAX_TITLE_CHARS));
    }
    let mut tags_input = CreateInputText::new(
        InputTextStyle::Short,
        "Competences (optional)",
        custom_id::FIELD_TAGS,
    )
    .required(false)
    .max_length(100)
    .placeholder("e.g. C3.5, I2.1");
    if !tags.is_empty() {
        tags_input = tags_input.value(fit(tags, 100));
    }
    let mut mode_input =
        CreateInputText::new(InputTextStyle::Short, "Kind of work", custom_id::FIELD_MODE)
            .required(false)
            .max_length(20)
            .placeholder("therapy, coaching, integrated or other");
    if !mode.is_empty() {
        mode_input = mode_input.value(fit(mode, 20));
    }
    let mut minutes_input = CreateInputText::new(
        InputTextStyle::Short,
        "Time spent, for a CPD record (optional)",
        custom_id::FIELD_MINUTES,
    )
    .required(false)
    .max_length(20)
    .placeholder("e.g. 45 or 1h 30");
    if !minutes.is_empty() {
        minutes_input = minutes_input.value(fit(minutes, 20));
    }
    CreateModal::new(custom_id, fit(heading, 45)).components(vec![
        CreateActionRow::InputText(title_input),
        CreateActionRow::InputText(text_input),
        CreateActionRow::InputText(tags_input),
        CreateActionRow::InputText(mode_input),
        CreateActionRow::InputText(minutes_input),
    ])
}

/// A new reflection's modal, tagged with `tags` and guided by `model`.
pub fn new_modal(data: &Data, tags: &str, model: &str) -> CreateModal {
    let model = data.models.get_or_free(model);
    reflection_modal(
        custom_id::modal(&ModalPurpose::New(model.id.clone())),
        &format!("Reflection: {}", model.name),
        &Prefill {
            text: &model.template,
            tags,
            mode: Mode::default().as_str(),
            ..Prefill::default()
        },
        model
            .questions
            .first()
            .map(String::as_str)
            .unwrap_or_default(),
    )
}

/// The edit modal for one of `member`'s reflections, or the reply saying
/// there is no such reflection.
pub fn edit_modal(
    data: &Data,
    member: u64,
    id: u64,
) -> Result<Result<CreateModal, Reply>, BotError> {
    match data.store.reflection(member, id)? {
        Some(r) if r.text.chars().count() > FORM_TEXT_CHARS => Ok(Err(Reply::user_error(
            too_long_for_the_form(id, r.text.chars().count()),
        ))),
        Some(r) => Ok(Ok(reflection_modal(
            custom_id::modal(&ModalPurpose::Edit(id)),
            &format!("Edit reflection #{id}"),
            &Prefill {
                title: &r.title,
                text: &r.text,
                tags: &tags_text(&r.competences),
                mode: r.mode.as_str(),
                minutes: &r.minutes.map(minutes_text).unwrap_or_default(),
            },
            "",
        ))),
        None => Ok(Err(answer(data, member, None, Personal::View(id))?)),
    }
}

/// The form `member` submitted that could not be kept whole, reopened as
/// they typed it, or the reply saying nothing is held any more.
pub fn reopened_modal(data: &Data, member: u64) -> Result<Result<CreateModal, Reply>, BotError> {
    let held = match data
        .store
        .held_form(member, form::HeldKind::Reflection, data.clock.now())
    {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, "a held form could not be opened");
            return Ok(Err(Reply::user_error(
                "What was held for you cannot be read (the bot's database is damaged or failed), so the form cannot be brought back. `/reflect` starts a new one; `/reflections list` shows what was saved.".into(),
            )));
        }
    };
    let Some(held) = held else {
        return Ok(Err(nothing_held()));
    };
    let (purpose, heading) = match &held.purpose {
        form::HeldFor::New(model) => (
            ModalPurpose::New(model.clone()),
            format!("Reflection: {}", data.models.get_or_free(model).name),
        ),
        form::HeldFor::Edit(id) => (ModalPurpose::Edit(*id), format!("Edit reflection #{id}")),
        // A supervision form is reopened by `supervision::reopened_modal`.
        form::HeldFor::Log(_) | form::HeldFor::Case(_) => return Ok(Err(nothing_held())),
    };
    let typed = &held.typed;
    let field = |f: &Option<String>| f.clone().unwrap_or_default();
    Ok(Ok(reflection_modal(
        custom_id::modal_reopened(&purpose),
        &heading,
        &Prefill {
            title: &field(&typed.title),
            text: &field(&typed.text),
            tags: &field(&typed.tags),
            mode: &field(&typed.mode),
            minutes: &field(&typed.minutes),
        },
        "",
    )))
}

fn nothing_held() -> Reply {
    Reply::user_error(format!(
        "Nothing you typed is held any more: a form is kept for {} hours after it could not be saved whole. `/reflect` starts a new one; `/reflections list` shows what was saved.",
        form::HOLD_FORM_FOR.num_hours()
    ))
}

/// A submitted reflection modal: saved (or updated) for the member who
/// submitted it. The text is never lost to a bad tag, kind or time: each is
/// named with its reason, the rest is kept, and the form as typed is held
/// (sealed in the store, for [`form::HOLD_FORM_FOR`]) for the reply's
/// Reopen button; a form with no text is held the same way, nothing saved.
pub async fn submitted(
    ctx: &serenity::Context,
    submit: &ModalInteraction,
    data: &Data,
) -> Result<(), BotError> {
    let member = submit.user.id.get();
    let work = async {
        match custom_id::parse_modal(&submit.data.custom_id) {
            Some((purpose, reopened)) => match save_submission(data, submit, purpose, reopened) {
                Ok(reply) => reply,
                Err(BotError::User(text)) => Reply::user_error(text),
                // Neither confirmed nor held: what was typed goes back to the
                // member, told whether it may have been saved all the same.
                Err(e) => {
                    tracing::error!(error = %e, "a submitted form could be neither saved nor held");
                    let maybe = matches!(&e, BotError::Store(s) if s.may_have_been_kept());
                    shown_back(&typed_fields(submit), maybe)
                }
            },
            None => Reply::user_error(
                "That form is not one this bot can answer any more. Try `/reflect`.".into(),
            ),
        }
    };
    super::in_time::answer_form_then(ctx, submit, work, |sent| {
        let_go_once_sent(data, member, form::HeldKind::Reflection, sent);
    })
    .await
}

/// Every field of a submitted reflection form, as typed.
fn typed_fields(submit: &ModalInteraction) -> form::Typed {
    let field = |name: &str| modal_input(submit, name);
    form::Typed {
        title: field(custom_id::FIELD_TITLE),
        text: field(custom_id::FIELD_TEXT),
        tags: field(custom_id::FIELD_TAGS),
        mode: field(custom_id::FIELD_MODE),
        minutes: field(custom_id::FIELD_MINUTES),
        fields: Vec::new(),
    }
}

/// When a form can be neither saved nor held (the database failed): what
/// was typed, shown back privately for the member to keep. `maybe_kept`:
/// the database stopped answering after it was sent, so it may be saved.
fn shown_back(typed: &form::Typed, maybe_kept: bool) -> Reply {
    let title = typed.title.as_deref().unwrap_or_default();
    let mut reply = Reply::user_error(if maybe_kept {
        crate::commands::personal::MAYBE_SAVED.into()
    } else {
        "Nothing was saved: the bot could not write to its database just now. Here is what you typed, to copy and keep; try again in a few minutes.".into()
    });
    reply.cards = vec![crate::render::Card {
        title: fit(
            if title.trim().is_empty() {
                "What you typed"
            } else {
                title
            },
            256,
        ),
        description: fit(typed.text.as_deref().unwrap_or_default(), 4096),
        ..crate::render::Card::default()
    }];
    reply
}

fn save_submission(
    data: &Data,
    submit: &ModalInteraction,
    purpose: ModalPurpose,
    reopened: bool,
) -> Result<Reply, BotError> {
    let typed = typed_fields(submit);
    let member = submit.user.id.get();
    let guild = submit.guild_id.map(|g| g.get());
    let (filled, id) = match &purpose {
        ModalPurpose::New(model) => {
            let model = data.models.get_or_free(model).id.clone();
            (
                form::fill(&data.framework, &typed, form::Base::New(&model)),
                None,
            )
        }
        ModalPurpose::Edit(id) => match data.store.reflection(member, *id)? {
            Some(existing) => (
                form::fill(&data.framework, &typed, form::Base::Existing(&existing)),
                Some(*id),
            ),
            None => return answer(data, member, None, Personal::View(*id)),
        },
    };
    let held_for = match &purpose {
        ModalPurpose::New(model) => form::HeldFor::New(model.clone()),
        ModalPurpose::Edit(id) => form::HeldFor::Edit(*id),
    };
    let holding = if reopened {
        form::Holding::CarriedOn
    } else {
        form::Holding::Afresh
    };
    let filled = match filled {
        Ok(filled) => filled,
        Err(why) => {
            // Nothing saved: what was typed is held for the member to reopen.
            let held = form::Held {
                purpose: held_for,
                typed,
            };
            let replaced = hold_form(data, member, &held, holding)?;
            let mut reply = Reply::user_error(format!("{why} {}", personal::form_held_note()));
            reply.actions = vec![crate::commands::Action::Reopen(Some(
                form::HeldKind::Reflection,
            ))];
            return Ok(match replaced {
                Some(old) => personal::with_replaced_form(reply, &old),
                None => reply,
            });
        }
    };
    let command = match id {
        Some(id) => Personal::Edit(id, filled.draft),
        None => Personal::Save(filled.draft),
    };
    let reply = answer(data, member, guild, command)?;
    if reply.is_error {
        return Ok(reply);
    }
    let saved = reply.actions.iter().find_map(|a| match a {
        crate::commands::Action::Edit(n) | crate::commands::Action::View(n) => Some(*n),
        _ => None,
    });
    let now = data.clock.now();
    let mut replaced = None;
    let held = match saved {
        // Saved, with fields refused: the form as typed is held, to reopen
        // as an edit of what was saved.
        Some(n) if !filled.notes.is_empty() => {
            let held = form::Held {
                purpose: form::HeldFor::Edit(n),
                typed,
            };
            match hold_form(data, member, &held, holding) {
                Ok(other) => {
                    // A reopened form replaces what was held for itself:
                    // nothing to give back.
                    if reopened
                        && other.is_some()
                        && let Err(e) =
                            data.store
                                .let_go_of_given_back(member, form::HeldKind::Reflection, now)
                    {
                        tracing::warn!(error = %e, "a replaced form could not be let go of");
                    }
                    replaced = other.filter(|_| !reopened);
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a form with refused fields could not be held");
                    false
                }
            }
        }
        _ => false,
    };
    if reopened && !held {
        // The reopened form is kept whole now: what was held for it goes
        // (a form held since for something else stays).
        if let Err(e) = data.store.let_go_of_form(member, &held_for, now) {
            tracing::warn!(error = %e, "a held form could not be let go of");
        }
        data.scheduler.changed();
    }
    let reply = personal::with_form_notes(reply, &filled.notes, held);
    Ok(match replaced {
        Some(old) => personal::with_replaced_form(reply, &old),
        None => reply,
    })
}

/// Holds `held` for `member`; the form of its kind it replaced when that
/// was held for something else (a member has one held form of each kind),
/// for its words to go back to the member: the store keeps it given back
/// until the reply that gives it back is sent ([`let_go_once_sent`]), or
/// the upkeep lets go of it after its time.
pub fn hold_form(
    data: &Data,
    member: u64,
    held: &form::Held,
    holding: form::Holding,
) -> Result<Option<form::Held>, BotError> {
    let replaced = data
        .store
        .hold_form(member, held, holding, data.clock.now())?;
    data.scheduler.changed();
    Ok(replaced)
}

/// Once `sent` was sent to `member`: lets go of the form of `kind` it gave
/// back, if it gave one back (it carries its words as a file).
pub fn let_go_once_sent(data: &Data, member: u64, kind: form::HeldKind, sent: &Reply) {
    let gave_back = sent
        .attachments
        .iter()
        .any(|a| a.filename == personal::REPLACED_FORM_FILE);
    if !gave_back {
        return;
    }
    if let Err(e) = data
        .store
        .let_go_of_given_back(member, kind, data.clock.now())
    {
        tracing::warn!(error = %e, "a form given back could not be let go of");
    }
    data.scheduler.changed();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A form the database could take neither as saved nor as held comes
    /// back with its words, privately, and says nothing was saved.
    #[test]
    fn a_form_that_cannot_be_kept_is_shown_back_whole() {
        let text = "é".repeat(FORM_TEXT_CHARS);
        let typed = form::Typed {
            title: Some("Before the session".into()),
            text: Some(text.clone()),
            ..form::Typed::default()
        };
        let maybe = shown_back(&typed, true);
        assert!(maybe.is_error);
        assert!(
            maybe
                .text
                .unwrap_or_default()
                .starts_with("This could not be confirmed"),
            "a save that may have been kept is never called not saved"
        );
        assert_eq!(maybe.cards[0].description, text);
        let reply = shown_back(&typed, false);
        assert!(reply.is_error);
        assert!(
            reply
                .text
                .unwrap_or_default()
                .starts_with("Nothing was saved")
        );
        assert_eq!(reply.cards[0].title, "Before the session");
        assert_eq!(
            reply.cards[0].description, text,
            "every character comes back"
        );
    }
}
