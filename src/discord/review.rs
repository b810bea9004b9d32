//! A review of a member's development priorities in Discord: a form with a
//! question for each (at most five: a form holds five fields), opened by
//! `/priorities review` or by the button of the direct message the
//! scheduler sends when a review the member asked for is due. The answers
//! are kept as a private reflection by the core; a form that cannot be
//! kept comes back to the member, every word.

use poise::serenity_prelude as serenity;
use serenity::{CreateActionRow, CreateInputText, CreateModal, InputTextStyle, ModalInteraction};

use super::reply::{action_buttons, no_mentions};
use super::{BotError, Data};
use crate::commands::personal::{Personal, PriorityCommand};
use crate::commands::{Action, Reply};
use crate::framework::CompetenceId;
use crate::reflections::review;
use crate::render::fit;

/// The form's custom id.
pub(super) const MODAL_ID: &str = "review:priorities";

/// The review form for `member`, or the reply saying there is nothing to review.
pub(super) fn modal(data: &Data, member: u64) -> Result<Result<CreateModal, Reply>, BotError> {
    let priorities = data.store.priorities(member)?;
    if priorities.is_empty() {
        return Ok(Err(Reply::user_error(
            "You have no priorities to review: `/priorities add C3.5` marks them.".into(),
        )));
    }
    let rows = review::reviewed(&priorities)
        .iter()
        .map(|id| {
            CreateActionRow::InputText(
                CreateInputText::new(
                    InputTextStyle::Paragraph,
                    review::question(*id),
                    id.to_string(),
                )
                .required(false)
                .max_length(1000)
                .placeholder(fit(&review::prompt(&data.framework, *id), 100)),
            )
        })
        .collect();
    Ok(Ok(CreateModal::new(
        MODAL_ID,
        "How have your priorities moved?",
    )
    .components(rows)))
}

/// Every answer of a submitted review, as typed, by its field's competence.
fn answers(submit: &ModalInteraction) -> Vec<(CompetenceId, String)> {
    submit
        .data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .filter_map(|c| match c {
            serenity::ActionRowComponent::InputText(t) => {
                let id: CompetenceId = t.custom_id.parse().ok()?;
                Some((id, t.value.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect()
}

/// A submitted review: kept as a reflection, or every word shown back.
pub(super) async fn submitted(
    ctx: &serenity::Context,
    submit: &ModalInteraction,
    data: &Data,
) -> Result<(), BotError> {
    let member = submit.user.id.get();
    let answers = answers(submit);
    let typed = answers
        .iter()
        .map(|(id, a)| format!("{}\n{a}", id.short()))
        .collect::<Vec<_>>()
        .join("\n\n");
    let guild = submit.guild_id.map(|g| g.get());
    let command = Personal::Priorities(PriorityCommand::Review(answers));
    super::in_time::answer_form(ctx, submit, async {
        match super::personal::answer(data, member, guild, command) {
            Ok(reply) if !reply.is_error || typed.trim().is_empty() => reply,
            Ok(reply) => with_words_back(reply, &typed),
            Err(e) => {
                tracing::error!(error = %e, "a review could not be kept");
                with_words_back(
                    Reply::user_error("The review could not be kept just now.".into()),
                    &typed,
                )
            }
        }
    })
    .await
}

fn with_words_back(mut reply: Reply, typed: &str) -> Reply {
    let said = reply.text.take().unwrap_or_default();
    reply.text = Some(fit(
        &format!("{said} Nothing was saved. Here is what you wrote, so it is not lost:\n\n{typed}"),
        2000,
    ));
    reply
}

/// The direct message that asks for a review that is due.
pub(super) fn invitation() -> serenity::CreateMessage {
    serenity::CreateMessage::new()
        .content("It is time for the review of your development priorities you asked for: a question for each, kept as a private reflection. The button opens it; `/priorities review-every` changes how often or turns it off.")
        .components(vec![action_buttons(&[Action::ReviewPriorities])])
        .allowed_mentions(no_mentions())
}
