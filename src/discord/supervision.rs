//! The supervision log and case presentations in Discord: `/log` and
//! `/present`, over the same core as the console's. Closed choices are the
//! slash command's options, free text goes in modals; the seven-eyed form's
//! eight fields run over two modals, its first step held (sealed, as a held
//! form is) until the second is saved. Nothing is saved while the
//! confidentiality check has a question about any field: what was typed is
//! held, for Reopen (to change it) or Save as written. Every reply is
//! ephemeral; the member is always whoever Discord says acted.

use poise::serenity_prelude as serenity;
use serenity::{
    ActionRowComponent, CreateActionRow, CreateInputText, CreateModal, InputTextStyle,
    ModalInteraction,
};

use super::commands::{Month, respond_with_modal};
use super::personal::{TIMES, answer, hold_form, let_go_once_sent};
use super::reply::{modal_input, send};
use super::{BotError, Context, Data};
use crate::commands::personal::{self, CaseCommand, LogCommand, Personal};
use crate::commands::{Action, Reply};
use crate::reflections::form::{self, HOLD_FORM_FOR, Held, HeldFor, HeldKind, Holding, Typed};
use crate::reflections::nudge;
use crate::render::{Card, fit};
use crate::supervision::case::{self, CaseDraft, Eye, Field, Frame};
use crate::supervision::log::{self, Function, Kind, LogChoices, LogDraft};

/// The most text inputs one Discord modal holds.
pub const MODAL_FIELDS: usize = 5;

/// The log form's free-text field.
const TOOK_AWAY: &str = "took_away";
/// The log form's competences field.
const COMPETENCES: &str = "competences";

/// What a supervision modal is for, as its custom id says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Purpose {
    /// A log entry with these choices; `again` when reopened from what was
    /// held (saving it lets go of that).
    Log { choices: LogChoices, again: bool },
    /// Step `step` (from 0) of a presentation in `frame`; `again` when
    /// reopened from what was held.
    Case {
        frame: Frame,
        step: usize,
        again: bool,
    },
}

fn new_or_again(again: bool) -> &'static str {
    if again { "again" } else { "new" }
}

/// The custom id of a supervision modal: everything needed to answer it
/// (the log's choices too), so it works across restarts.
fn modal_id(purpose: &Purpose) -> String {
    match purpose {
        Purpose::Log { choices, again } => {
            format!("log:{}:{}", new_or_again(*again), choices.to_words())
        }
        Purpose::Case { frame, step, again } => {
            format!("present:{}:{step}:{}", frame.as_str(), new_or_again(*again))
        }
    }
}

/// The purpose a custom id names, if it is one of ours and well formed.
fn parse_modal_id(value: &str) -> Option<Purpose> {
    let again = |w: &str| match w {
        "new" => Some(false),
        "again" => Some(true),
        _ => None,
    };
    if let Some(rest) = value.strip_prefix("log:") {
        let (fresh, choices) = rest.split_once(':')?;
        return Some(Purpose::Log {
            choices: LogChoices::from_words(choices)?,
            again: again(fresh)?,
        });
    }
    let parts: Vec<&str> = value.split(':').collect();
    match parts.as_slice() {
        ["present", frame, step, fresh] => {
            let frame = Frame::from_word(frame)?;
            let step: usize = step.parse().ok()?;
            (step < steps(frame).len()).then_some(Purpose::Case {
                frame,
                step,
                again: again(fresh)?,
            })
        }
        _ => None,
    }
}

/// Whether a modal's custom id is one this module answers.
pub fn is_ours(custom_id: &str) -> bool {
    custom_id.starts_with("log:") || custom_id.starts_with("present:")
}

/// The frame's fields as Discord asks them: five to a modal.
fn steps(frame: Frame) -> Vec<&'static [Eye]> {
    frame.eyes().chunks(MODAL_FIELDS).collect()
}

/// The kind of supervision, as a slash command's choice.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum KindChoice {
    /// A supervision group.
    #[name = "group"]
    Group,
    /// Peer supervision.
    #[name = "peer"]
    Peer,
    /// Individual supervision elsewhere.
    #[name = "individual (supervision elsewhere)"]
    Individual,
}

impl From<KindChoice> for Kind {
    fn from(k: KindChoice) -> Kind {
        match k {
            KindChoice::Group => Kind::Group,
            KindChoice::Peer => Kind::Peer,
            KindChoice::Individual => Kind::Individual,
        }
    }
}

/// Your private supervision log and the year's supervision record, against your own monthly minimum
#[poise::command(
    slash_command,
    subcommands(
        "log_add",
        "log_list",
        "log_view",
        "log_delete",
        "log_year",
        "log_minimum"
    ),
    subcommand_required
)]
pub async fn log(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

async fn personal_reply(ctx: Context<'_>, command: Personal) -> Result<(), BotError> {
    let guild = ctx.guild_id().map(|g| g.get());
    let reply = answer(ctx.data(), ctx.author().id.get(), guild, command)?;
    send(ctx, &reply).await
}

/// Log a supervision meeting or session: a form asks what you took away
#[poise::command(slash_command, rename = "add")]
#[allow(clippy::too_many_arguments)]
async fn log_add(
    ctx: Context<'_>,
    #[description = "Time in supervision, e.g. 90 or 1h 30 (needed when you attended)"]
    #[max_length = 20]
    time: Option<String>,
    #[description = "Group (if not given), peer, or individual supervision elsewhere"] kind: Option<
        KindChoice,
    >,
    #[description = "It served the normative function: standards, ethics, accountability"]
    normative: Option<bool>,
    #[description = "It served the formative function: learning and skills"] formative: Option<
        bool,
    >,
    #[description = "It served the restorative function: support with how the work affects you"]
    restorative: Option<bool>,
    #[description = "Did you attend? (yes if not given)"] attended: Option<bool>,
    #[description = "The day, e.g. 2026-03-10, 10 March 2026 or yesterday (today if not given)"]
    #[max_length = 40]
    date: Option<String>,
) -> Result<(), BotError> {
    let data = ctx.data();
    let today = TIMES.today(data.clock.now());
    let date = log::date(date.as_deref().unwrap_or_default(), today).map_err(BotError::User)?;
    let attended = attended.unwrap_or(true);
    let minutes = if attended {
        log::minutes(time.as_deref().unwrap_or_default()).map_err(BotError::User)?
    } else {
        0
    };
    let functions = [
        (Function::Normative, normative),
        (Function::Formative, formative),
        (Function::Restorative, restorative),
    ]
    .into_iter()
    .filter_map(|(f, on)| (on == Some(true)).then_some(f))
    .collect();
    let choices = LogChoices {
        date,
        attended,
        minutes,
        kind: kind.map_or_else(Kind::default, Kind::from),
        functions,
    };
    if !attended {
        // Nothing to write about a meeting missed: logged at once.
        let draft = choices.draft(String::new(), Vec::new());
        return personal_reply(ctx, Personal::Log(LogCommand::Add(draft))).await;
    }
    match log_form(data, ctx.author().id.get(), choices) {
        Ok(modal) => respond_with_modal(ctx, modal).await,
        Err(reply) => send(ctx, reply.as_ref()).await,
    }
}

/// The log form with `choices`, as `/log add` and a meeting's Log this
/// meeting open it for `member`; or, when an entry of theirs is held, the
/// offer to go on from it or start afresh with `choices`.
pub fn log_form(data: &Data, member: u64, choices: LogChoices) -> Result<CreateModal, Box<Reply>> {
    let held = data
        .store
        .held_form(member, HeldKind::Log, data.clock.now())
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "a held form could not be read");
            None
        });
    let Some(Held {
        purpose: HeldFor::Log(held_choices),
        ..
    }) = held
    else {
        return Ok(fresh_log_modal(&choices));
    };
    let mut reply = Reply::private_text(format!(
        "You have a log entry under way (for {}, {}), kept for you for {} hours from when you submitted it. Reopen what I typed goes on from it; Start afresh opens an empty form for this entry, and what is held is given back to you when you submit that form.",
        held_choices.date.format("%-d %b %Y"),
        held_choices.kind.as_str(),
        HOLD_FORM_FOR.num_hours()
    ));
    reply.actions = vec![
        Action::Reopen(Some(HeldKind::Log)),
        Action::LogAfresh(choices),
    ];
    Err(Box::new(reply))
}

/// List your supervision log, newest first
#[poise::command(slash_command, rename = "list")]
async fn log_list(ctx: Context<'_>) -> Result<(), BotError> {
    personal_reply(ctx, Personal::Log(LogCommand::List)).await
}

/// Read one entry of your supervision log
#[poise::command(slash_command, rename = "view")]
async fn log_view(
    ctx: Context<'_>,
    #[description = "Its number, as /log list shows it"]
    #[min = 1]
    number: u64,
) -> Result<(), BotError> {
    personal_reply(ctx, Personal::Log(LogCommand::View(number))).await
}

/// Delete one entry of your supervision log (asks first)
#[poise::command(slash_command, rename = "delete")]
async fn log_delete(
    ctx: Context<'_>,
    #[description = "Its number, as /log list shows it"]
    #[min = 1]
    number: u64,
) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    let reply = match ctx.data().store.log_entry(member, number) {
        Ok(Some(e)) => personal::confirm_delete_log(&e).reply(),
        // Not found, or damaged: the core's view says which.
        Ok(None) | Err(_) => answer(
            ctx.data(),
            member,
            None,
            Personal::Log(LogCommand::View(number)),
        )?,
    };
    send(ctx, &reply).await
}

/// The year's supervision record, with its Markdown and CSV files
#[poise::command(slash_command, rename = "year")]
async fn log_year(
    ctx: Context<'_>,
    #[description = "The calendar year your membership year starts in (this one if not given)"]
    #[min = 2000]
    #[max = 2100]
    year: Option<i32>,
    #[description = "The month your membership year starts (January if not given)"] starts: Option<
        Month,
    >,
) -> Result<(), BotError> {
    let command = Personal::Log(LogCommand::Year {
        year,
        starts: starts.map_or(1, |m| m as u32 + 1),
        files: true,
    });
    let mut reply = answer(
        ctx.data(),
        ctx.author().id.get(),
        ctx.guild_id().map(|g| g.get()),
        command,
    )?;
    // The record can be longer than a message's text holds; an embed's
    // description holds it whole.
    if let Some(text) = reply.text.take() {
        reply.cards.insert(
            0,
            Card {
                title: "Your supervision record".into(),
                description: text,
                ..Card::default()
            },
        );
    }
    send(ctx, &reply).await
}

/// Set the monthly minimum of supervision your professional body asks of you
#[poise::command(slash_command, rename = "minimum")]
async fn log_minimum(
    ctx: Context<'_>,
    #[description = "Hours per month, e.g. 1.5 or 1h 30; none to unset it"]
    #[max_length = 20]
    hours: String,
) -> Result<(), BotError> {
    let minutes = log::monthly_minimum(&hours).map_err(BotError::User)?;
    personal_reply(ctx, Personal::Log(LogCommand::Minimum(minutes))).await
}

/// Prepare a private case presentation by the seven-eyed model of supervision, or the question alone
#[poise::command(
    slash_command,
    subcommands(
        "present_seven_eyed",
        "present_short",
        "present_list",
        "present_view",
        "present_delete"
    ),
    subcommand_required
)]
pub async fn present(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Prepare a case presentation by the seven-eyed model (two forms)
#[poise::command(slash_command, rename = "seven-eyed")]
async fn present_seven_eyed(ctx: Context<'_>) -> Result<(), BotError> {
    start_presentation(ctx, Frame::SevenEyed).await
}

/// Prepare a case presentation of your question for the group alone
#[poise::command(slash_command, rename = "short")]
async fn present_short(ctx: Context<'_>) -> Result<(), BotError> {
    start_presentation(ctx, Frame::Short).await
}

/// The form of `kind` held for the command's member, if any; one that
/// cannot be read is logged, and the member is offered a fresh form.
fn held_of(ctx: Context<'_>, kind: HeldKind) -> Option<Held> {
    let data = ctx.data();
    data.store
        .held_form(ctx.author().id.get(), kind, data.clock.now())
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "a held form could not be read");
            None
        })
}

/// A presentation's first form; or, when one is held for the member, the
/// offer to go on from it or start afresh.
async fn start_presentation(ctx: Context<'_>, frame: Frame) -> Result<(), BotError> {
    if let Some(Held {
        purpose: HeldFor::Case(held_frame),
        ..
    }) = held_of(ctx, HeldKind::Case)
    {
        let mut reply = Reply::private_text(format!(
            "You have a presentation under way ({}), kept for you for {} hours from when you last wrote in it. Reopen what I typed goes on from it; Start afresh opens an empty form, and what is held is given back to you when you submit that form's first step.",
            held_frame.label(),
            HOLD_FORM_FOR.num_hours()
        ));
        reply.actions = vec![
            Action::Reopen(Some(HeldKind::Case)),
            Action::PresentAfresh(frame),
        ];
        return send(ctx, &reply).await;
    }
    respond_with_modal(ctx, first_modal(frame)).await
}

/// List your case presentations, newest first
#[poise::command(slash_command, rename = "list")]
async fn present_list(ctx: Context<'_>) -> Result<(), BotError> {
    personal_reply(ctx, Personal::Cases(CaseCommand::List)).await
}

/// Read one of your case presentations
#[poise::command(slash_command, rename = "view")]
async fn present_view(
    ctx: Context<'_>,
    #[description = "Its number, as /present list shows it"]
    #[min = 1]
    number: u64,
) -> Result<(), BotError> {
    personal_reply(ctx, Personal::Cases(CaseCommand::View(number))).await
}

/// Delete one of your case presentations (asks first)
#[poise::command(slash_command, rename = "delete")]
async fn present_delete(
    ctx: Context<'_>,
    #[description = "Its number, as /present list shows it"]
    #[min = 1]
    number: u64,
) -> Result<(), BotError> {
    let member = ctx.author().id.get();
    let reply = match ctx.data().store.presentation(member, number) {
        Ok(Some(p)) => personal::confirm_delete_presentation(&p).reply(),
        Ok(None) | Err(_) => answer(
            ctx.data(),
            member,
            None,
            Personal::Cases(CaseCommand::View(number)),
        )?,
    };
    send(ctx, &reply).await
}

/// The log's form: what was taken away and the competences touched,
/// prefilled with `typed`.
fn log_modal(choices: &LogChoices, typed: &Typed, again: bool) -> CreateModal {
    let mut took_away = CreateInputText::new(
        InputTextStyle::Paragraph,
        "What I took away (optional)",
        TOOK_AWAY,
    )
    .required(false)
    .max_length(case::MAX_FIELD_CHARS as u16)
    .placeholder("What you are taking into your practice; only you will read it");
    if let Some(text) = typed.text.as_deref().filter(|t| !t.is_empty()) {
        took_away = took_away.value(fit(text, case::MAX_FIELD_CHARS));
    }
    let mut competences = CreateInputText::new(
        InputTextStyle::Short,
        "Competences it touched (optional)",
        COMPETENCES,
    )
    .required(false)
    .max_length(100)
    .placeholder("e.g. C3.5, I2.1");
    if let Some(tags) = typed.tags.as_deref().filter(|t| !t.is_empty()) {
        competences = competences.value(fit(tags, 100));
    }
    let heading = format!(
        "Log: {}, {}",
        choices.date.format("%-d %b %Y"),
        choices.kind.as_str()
    );
    CreateModal::new(
        modal_id(&Purpose::Log {
            choices: choices.clone(),
            again,
        }),
        fit(&heading, 45),
    )
    .components(vec![
        CreateActionRow::InputText(took_away),
        CreateActionRow::InputText(competences),
    ])
}

/// Step `step` of a presentation's form, prefilled with `fields`.
fn case_modal(frame: Frame, step: usize, fields: &[Field], again: bool) -> CreateModal {
    let all = steps(frame);
    let eyes = all.get(step).copied().unwrap_or_default();
    let rows = eyes
        .iter()
        .map(|eye| {
            let is_question = eye.key == case::QUESTION.key;
            let mut input =
                CreateInputText::new(InputTextStyle::Paragraph, fit(eye.name, 45), eye.key)
                    .required(is_question)
                    .max_length(case::MAX_FIELD_CHARS as u16)
                    .placeholder(fit(eye.prompt, 100));
            if let Some(f) = fields
                .iter()
                .find(|f| f.key == eye.key && !f.text.is_empty())
            {
                input = input.value(fit(&f.text, case::MAX_FIELD_CHARS));
            }
            CreateActionRow::InputText(input)
        })
        .collect();
    let heading = if all.len() > 1 {
        format!("{} ({} of {})", frame.as_str(), step + 1, all.len())
    } else {
        frame.as_str().to_string()
    };
    CreateModal::new(
        modal_id(&Purpose::Case { frame, step, again }),
        fit(&format!("Case presentation: {heading}"), 45),
    )
    .components(rows)
}

/// The log's form for these choices, empty.
pub fn fresh_log_modal(choices: &LogChoices) -> CreateModal {
    log_modal(choices, &Typed::default(), false)
}

/// A presentation's first form, empty.
pub fn first_modal(frame: Frame) -> CreateModal {
    case_modal(frame, 0, &[], false)
}

/// The supervision form of `kind` held for `member`, reopened as they
/// typed it (a presentation at its first step: its Continue brings the
/// next); none when none is held.
pub fn reopened_modal(data: &Data, member: u64, kind: HeldKind) -> Option<CreateModal> {
    let held = data
        .store
        .held_form(member, kind, data.clock.now())
        .ok()
        .flatten()?;
    match held.purpose {
        HeldFor::Log(choices) => Some(log_modal(&choices, &held.typed, true)),
        HeldFor::Case(frame) => Some(case_modal(frame, 0, &held.typed.fields, true)),
        HeldFor::New(_) | HeldFor::Edit(_) => None,
    }
}

/// A click on Continue: the next step of the presentation held for
/// `member`, prefilled with anything already written in it.
pub fn continue_modal(data: &Data, member: u64) -> Result<Result<CreateModal, Reply>, BotError> {
    match data
        .store
        .held_form(member, HeldKind::Case, data.clock.now())
    {
        Ok(Some(Held {
            purpose: HeldFor::Case(frame),
            typed,
        })) if steps(frame).len() > 1 => Ok(Ok(case_modal(frame, 1, &typed.fields, false))),
        Ok(_) => Ok(Err(nothing_held())),
        Err(e) => {
            tracing::warn!(error = %e, "a held presentation could not be read");
            Ok(Err(nothing_held()))
        }
    }
}

pub fn nothing_held() -> Reply {
    Reply::user_error(format!(
        "Nothing of a presentation or log entry is held for you any more: what you type is kept for {} hours while it is under way, and goes once it is saved. `/present seven-eyed` starts a presentation; `/present list` and `/log list` show what was saved.",
        HOLD_FORM_FOR.num_hours()
    ))
}

/// A click on Save as written: the log entry or presentation of `kind`
/// held for `member`, saved as it is (the core's reply repeats the check's
/// note). A button from before kinds were held apart (no kind) saves
/// whichever is held, and only when one is: with both held, the member is
/// asked to reopen the one they mean.
pub fn save_as_written(
    data: &Data,
    member: u64,
    guild: Option<u64>,
    kind: Option<HeldKind>,
) -> Result<Reply, BotError> {
    let kinds = match kind {
        Some(kind) => vec![kind],
        None => vec![HeldKind::Log, HeldKind::Case],
    };
    let mut held = Vec::new();
    for kind in kinds {
        match data.store.held_form(member, kind, data.clock.now()) {
            Ok(Some(h)) => held.push(h),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "a held form could not be read"),
        }
    }
    let held = match held.len() {
        0 => return Ok(nothing_held()),
        1 => held.remove(0),
        _ => {
            let mut reply = Reply::user_error(
                "Both a log entry and a case presentation are held for you, and this button is from before they were kept apart, so nothing is saved. Reopen each to look at it and submit it again.".into(),
            );
            reply.actions = vec![
                Action::Reopen(Some(HeldKind::Log)),
                Action::Reopen(Some(HeldKind::Case)),
            ];
            return Ok(reply);
        }
    };
    let command = match &held.purpose {
        HeldFor::Log(choices) => {
            let tags = form::tags(&data.framework, held.typed.tags.as_deref().unwrap_or(""));
            if let Some(note) = tags.note() {
                return Ok(refused_with_reopen(HeldKind::Log, note));
            }
            let text = held.typed.text.clone().unwrap_or_default();
            Personal::Log(LogCommand::Add(choices.draft(text, tags.kept)))
        }
        HeldFor::Case(frame) => Personal::Cases(CaseCommand::Save(CaseDraft {
            frame: *frame,
            fields: held.typed.fields.clone(),
        })),
        HeldFor::New(_) | HeldFor::Edit(_) => return Ok(nothing_held()),
    };
    let reply = answer(data, member, guild, command)?;
    if !reply.is_error {
        let_go(data, member, &held.purpose);
    }
    Ok(reply)
}

/// Lets go of what is held for `member` for `purpose`, now that it is
/// kept whole.
fn let_go(data: &Data, member: u64, purpose: &HeldFor) {
    if let Err(e) = data.store.let_go_of_form(member, purpose, data.clock.now()) {
        tracing::warn!(error = %e, "a held form could not be let go of");
    }
    data.scheduler.changed();
}

/// Holds `typed` for `member`, answering with `reply`, which says when
/// this replaced a form held for something else.
fn hold(
    data: &Data,
    member: u64,
    purpose: HeldFor,
    holding: Holding,
    typed: Typed,
    mut reply: Reply,
) -> Result<Reply, BotError> {
    if let Some(old) = hold_form(data, member, &Held { purpose, typed }, holding)? {
        reply = personal::with_replaced_form(reply, &old);
    }
    Ok(reply)
}

/// A refusal whose words are held, as a form of `kind`: `why`, then how
/// to get them back.
fn refused_with_reopen(kind: HeldKind, why: String) -> Reply {
    let mut reply = Reply::user_error(format!("{why} {}", personal::form_held_note()));
    reply.actions = vec![Action::Reopen(Some(kind))];
    reply
}

/// The confidentiality check's questions: nothing saved, everything held,
/// to change (Reopen) or to keep as it is (Save as written).
/// The check's words, one per field, go in an embed: eight of them are
/// more than a message's text holds.
fn refused_for_concerns(kind: HeldKind, warnings: &[String]) -> Reply {
    let mut reply = Reply::user_error(format!(
        "Nothing is saved yet: the confidentiality check has a question. {} Save as written keeps it as it is.",
        personal::form_held_note()
    ));
    reply.cards = vec![Card {
        title: "The confidentiality check".into(),
        description: warnings.join("\n\n"),
        ..Card::default()
    }];
    reply.actions = vec![
        Action::Reopen(Some(kind)),
        Action::SaveAsWritten(Some(kind)),
    ];
    reply
}

/// A submitted log or presentation form, answered for whoever submitted it.
pub async fn submitted(
    ctx: &serenity::Context,
    submit: &ModalInteraction,
    data: &Data,
) -> Result<(), BotError> {
    let member = submit.user.id.get();
    let purpose = parse_modal_id(&submit.data.custom_id);
    let kind = match &purpose {
        Some(Purpose::Case { .. }) => HeldKind::Case,
        _ => HeldKind::Log,
    };
    let work = async {
        match purpose {
            Some(purpose) => match answer_submission(data, submit, purpose) {
                Ok(reply) => reply,
                Err(BotError::User(text)) => Reply::user_error(text),
                Err(e) => {
                    tracing::error!(error = %e, "a supervision form could be neither saved nor held");
                    shown_back(submit)
                }
            },
            None => Reply::user_error(
                "That form is not one this bot can answer any more. Try `/log add` or `/present seven-eyed`."
                    .into(),
            ),
        }
    };
    super::in_time::answer_form_then(ctx, submit, work, |sent| {
        let_go_once_sent(data, member, kind, sent);
    })
    .await
}

fn answer_submission(
    data: &Data,
    submit: &ModalInteraction,
    purpose: Purpose,
) -> Result<Reply, BotError> {
    let member = submit.user.id.get();
    let guild = submit.guild_id.map(|g| g.get());
    match purpose {
        Purpose::Log { choices, again } => {
            let typed = Typed {
                text: modal_input(submit, TOOK_AWAY),
                tags: modal_input(submit, COMPETENCES),
                ..Typed::default()
            };
            log_submitted(data, member, guild, choices, typed, again)
        }
        Purpose::Case { frame, step, again } => {
            let eyes = steps(frame).get(step).copied().unwrap_or_default();
            let typed: Vec<Field> = eyes
                .iter()
                .map(|eye| Field {
                    key: eye.key.to_string(),
                    text: modal_input(submit, eye.key).unwrap_or_default(),
                })
                .collect();
            case_submitted(data, member, guild, frame, step, again, typed)
        }
    }
}

fn log_submitted(
    data: &Data,
    member: u64,
    guild: Option<u64>,
    choices: LogChoices,
    typed: Typed,
    again: bool,
) -> Result<Reply, BotError> {
    let purpose = HeldFor::Log(choices.clone());
    let holding = if again {
        Holding::CarriedOn
    } else {
        Holding::Afresh
    };
    let draft = match checked_log(data, &choices, &typed) {
        Ok(draft) => draft,
        Err(refused) => return hold(data, member, purpose, holding, typed, *refused),
    };
    let reply = answer(data, member, guild, Personal::Log(LogCommand::Add(draft)))?;
    if again && !reply.is_error {
        let_go(data, member, &purpose);
    }
    Ok(reply)
}

/// The log entry `typed` with `choices`, or, when it cannot be saved as
/// it is (a competence left out, what was taken away too long, or a
/// question from the confidentiality check), the refusal to answer with
/// while the words are held.
fn checked_log(data: &Data, choices: &LogChoices, typed: &Typed) -> Result<LogDraft, Box<Reply>> {
    let tags = form::tags(&data.framework, typed.tags.as_deref().unwrap_or(""));
    if let Some(note) = tags.note() {
        return Err(Box::new(refused_with_reopen(
            HeldKind::Log,
            format!("Nothing is saved yet. {note}"),
        )));
    }
    let took_away = log::took_away(typed.text.as_deref().unwrap_or_default())
        .map_err(|why| Box::new(refused_with_reopen(HeldKind::Log, why)))?;
    if let Some(warning) = nudge::field_warning("what you took away", &nudge::concerns(&took_away))
    {
        return Err(Box::new(refused_for_concerns(HeldKind::Log, &[warning])));
    }
    Ok(choices.draft(took_away, tags.kept))
}

/// Fields as the frame orders them: `earlier`'s, replaced by `now`'s
/// where `now` has the key.
fn merged(frame: Frame, earlier: &[Field], now: &[Field]) -> Vec<Field> {
    frame
        .eyes()
        .iter()
        .filter_map(|eye| {
            now.iter()
                .chain(earlier)
                .find(|f| f.key == eye.key)
                .cloned()
        })
        .collect()
}

fn case_submitted(
    data: &Data,
    member: u64,
    guild: Option<u64>,
    frame: Frame,
    step: usize,
    again: bool,
    typed: Vec<Field>,
) -> Result<Reply, BotError> {
    let purpose = HeldFor::Case(frame);
    let all = steps(frame);
    // A later step carries the earlier ones' words on; a first step not
    // reopened is a presentation begun afresh.
    let holding = if step > 0 || again {
        Holding::CarriedOn
    } else {
        Holding::Afresh
    };
    // What is held of this presentation: the earlier steps' words (and,
    // reopened, the later ones').
    let held = match data
        .store
        .held_form(member, HeldKind::Case, data.clock.now())
    {
        Ok(Some(h)) if h.purpose == purpose => Some(h.typed.fields),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "a held presentation could not be read");
            None
        }
    };
    let fields_of = |fields: Vec<Field>| Typed {
        fields,
        ..Typed::default()
    };
    if step + 1 < all.len() {
        let earlier = if again {
            held.unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut reply = Reply::private_text(format!(
            "Step {} of {} is kept for you, sealed, for {} hours; nothing is saved yet. Continue opens the next: {}.",
            step + 1,
            all.len(),
            HOLD_FORM_FOR.num_hours(),
            all[step + 1]
                .iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        reply.actions = vec![Action::ContinueCase];
        let fields = merged(frame, &earlier, &typed);
        return hold(data, member, purpose, holding, fields_of(fields), reply);
    }
    if step > 0 && held.is_none() {
        let refused = refused_with_reopen(
            HeldKind::Case,
            format!(
                "The presentation's first step is no longer held (what is typed is kept for {} hours), so nothing is saved. What you typed in this step is kept.",
                HOLD_FORM_FOR.num_hours()
            ),
        );
        return hold(data, member, purpose, holding, fields_of(typed), refused);
    }
    let fields = merged(frame, &held.unwrap_or_default(), &typed);
    let draft = match (CaseDraft {
        frame,
        fields: fields.clone(),
    })
    .validated()
    {
        Ok(d) => d,
        Err(why) => {
            let refused =
                refused_with_reopen(HeldKind::Case, format!("Nothing is saved yet. {why}"));
            return hold(data, member, purpose, holding, fields_of(fields), refused);
        }
    };
    let warnings = personal::case_warnings(&draft.fields);
    if !warnings.is_empty() {
        let refused = refused_for_concerns(HeldKind::Case, &warnings);
        return hold(data, member, purpose, holding, fields_of(fields), refused);
    }
    let reply = answer(
        data,
        member,
        guild,
        Personal::Cases(CaseCommand::Save(draft)),
    )?;
    if (step > 0 || again) && !reply.is_error {
        let_go(data, member, &purpose);
    }
    Ok(reply)
}

/// When a form can be neither saved nor held (the database failed): what
/// was typed, shown back privately for the member to keep.
fn shown_back(submit: &ModalInteraction) -> Reply {
    let typed: Vec<String> = submit
        .data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|c| match c {
            ActionRowComponent::InputText(input) => input
                .value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string),
            _ => None,
        })
        .collect();
    let mut reply = Reply::user_error(
        "Nothing was saved: the bot could not write to its database just now. Here is what you typed, to copy and keep; try again in a few minutes.".into(),
    );
    reply.cards = vec![Card {
        title: "What you typed".into(),
        description: typed.join("\n\n"),
        ..Card::default()
    }];
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modal_ids_round_trip_within_discords_limit_and_forgeries_are_refused() {
        let choices = LogChoices {
            date: chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
            attended: true,
            minutes: crate::reflections::MAX_MINUTES,
            kind: Kind::Individual,
            functions: Function::ALL.to_vec(),
        };
        let mut purposes = vec![Purpose::Log {
            choices: choices.clone(),
            again: true,
        }];
        for functions in [vec![], vec![Function::Restorative]] {
            purposes.push(Purpose::Log {
                choices: LogChoices {
                    functions,
                    attended: false,
                    ..choices.clone()
                },
                again: false,
            });
        }
        for frame in [Frame::SevenEyed, Frame::Short] {
            for step in 0..steps(frame).len() {
                for again in [false, true] {
                    purposes.push(Purpose::Case { frame, step, again });
                }
            }
        }
        for p in purposes {
            let id = modal_id(&p);
            assert!(id.len() <= 100, "{id}");
            assert!(is_ours(&id));
            assert_eq!(parse_modal_id(&id), Some(p), "{id}");
        }
        for forged in [
            "log:new:2026-03-10:y:90:group",
            "log:new:2026-02-30:y:90:group:-",
            "log:new:2026-03-10:maybe:90:group:-",
            "log:new:2026-03-10:y:99999999:group:-",
            "log:new:2026-03-10:y:90:training:-",
            "log:new:2026-03-10:y:90:group:nn",
            "log:new:2026-03-10:y:90:group:x",
            "log:old:2026-03-10:y:90:group:-",
            "present:seven-eyed:2:new",
            "present:short:1:new",
            "present:long:0:new",
            "present:seven-eyed:0",
            "reflect:new:gibbs",
        ] {
            assert_eq!(parse_modal_id(forged), None, "{forged}");
        }
    }

    /// Every form fits Discord: at most five inputs, every label within 45
    /// characters, every step of every frame asked, each eye once.
    #[test]
    fn every_step_of_every_frame_fits_a_modal() {
        for frame in [Frame::SevenEyed, Frame::Short] {
            let all = steps(frame);
            let asked: Vec<&str> = all.iter().flat_map(|s| s.iter().map(|e| e.key)).collect();
            let keys: Vec<&str> = frame.eyes().iter().map(|e| e.key).collect();
            assert_eq!(asked, keys);
            for (step, eyes) in all.iter().enumerate() {
                assert!(!eyes.is_empty() && eyes.len() <= MODAL_FIELDS);
                for eye in *eyes {
                    assert!(eye.name.chars().count() <= 45, "{}", eye.name);
                }
                let modal = serde_json::to_value(case_modal(frame, step, &[], false)).unwrap();
                let title = modal["title"].as_str().unwrap();
                assert!(
                    title.chars().count() <= 45 && !title.ends_with('…'),
                    "{title}"
                );
            }
        }
        assert_eq!(steps(Frame::SevenEyed).len(), 2);
    }
}
