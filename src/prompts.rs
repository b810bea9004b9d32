//! Writing prompts shipped in `prompts/`: the reflective models that `/reflect`
//! offers, and the weekly questions and practice experiment for every
//! competence. The files are compiled into the binary and checked when loaded.

use std::collections::HashMap;

use serde::Deserialize;

use crate::framework::{CompetenceId, Framework};

/// The reflective models file, compiled in.
pub const MODELS_SOURCE: &str = include_str!("../prompts/models.toml");

/// The weekly prompts file, compiled in.
pub const COMPETENCES_SOURCE: &str = include_str!("../prompts/competences.toml");

/// Variables a prompt may use, each replaced when it is shown.
pub const VARIABLES: [&str; 4] = ["code", "statement", "area", "domain"];

/// The weekly prompt of one competence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyPrompt {
    /// Reflective questions (two or three).
    pub questions: Vec<String>,
    /// One small practice experiment for the week.
    pub experiment: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrompt {
    id: String,
    questions: Vec<String>,
    experiment: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptsFile {
    prompt: Vec<RawPrompt>,
}

/// Every competence's weekly prompt, checked against the framework.
#[derive(Debug, Clone)]
pub struct WeeklyPrompts(HashMap<CompetenceId, WeeklyPrompt>);

impl WeeklyPrompts {
    /// The built-in prompts, checked against `framework`.
    pub fn builtin(framework: &Framework) -> Result<WeeklyPrompts, PromptsError> {
        WeeklyPrompts::parse(COMPETENCES_SOURCE, framework)
    }

    /// Parses a prompts file. Refused: an unknown competence id, a competence
    /// twice or missing, fewer than two questions or no experiment, and any
    /// `{variable}` not in [`VARIABLES`].
    pub fn parse(text: &str, framework: &Framework) -> Result<WeeklyPrompts, PromptsError> {
        WeeklyPrompts::parse_checked(text, framework)
            .map_err(|e| e.in_file("prompts/competences.toml"))
    }

    fn parse_checked(text: &str, framework: &Framework) -> Result<WeeklyPrompts, PromptsError> {
        let file: PromptsFile = toml::from_str(text).map_err(|e| PromptsError(e.to_string()))?;
        let mut map = HashMap::new();
        for raw in file.prompt {
            let id: CompetenceId = raw
                .id
                .parse()
                .map_err(|e| PromptsError(format!("`{}` is not a competence id: {e}", raw.id)))?;
            if framework.competence(id).is_none() {
                return Err(PromptsError(format!(
                    "`{id}` is not a competence of the framework"
                )));
            }
            if raw.questions.len() < 2 || raw.experiment.trim().is_empty() {
                return Err(PromptsError(format!(
                    "`{id}` needs at least two questions and an experiment"
                )));
            }
            for text in raw.questions.iter().chain(std::iter::once(&raw.experiment)) {
                check_variables(text).map_err(|v| {
                    PromptsError(format!("`{id}` uses an unknown variable {{{v}}}"))
                })?;
            }
            let prompt = WeeklyPrompt {
                questions: raw.questions,
                experiment: raw.experiment,
            };
            if map.insert(id, prompt).is_some() {
                return Err(PromptsError(format!("`{id}` appears twice")));
            }
        }
        if let Some(missing) = framework
            .competences()
            .iter()
            .find(|c| !map.contains_key(&c.id))
        {
            return Err(PromptsError(format!("no prompt for `{}`", missing.id)));
        }
        Ok(WeeklyPrompts(map))
    }

    /// The prompt of `id`, its variables filled in.
    pub fn for_competence(&self, framework: &Framework, id: CompetenceId) -> Option<WeeklyPrompt> {
        let prompt = self.0.get(&id)?;
        let c = framework.competence(id)?;
        let area = framework
            .area_of(c)
            .map(|a| a.title.clone())
            .unwrap_or_default();
        let domain = framework
            .domain(id.domain)
            .map(|d| d.title.clone())
            .unwrap_or_default();
        let code = format!("{}{}", id.domain.letter(), id.code);
        let fill = |text: &str| {
            text.replace("{code}", &code)
                .replace("{statement}", &c.statement)
                .replace("{area}", &area)
                .replace("{domain}", &domain)
        };
        Some(WeeklyPrompt {
            questions: prompt.questions.iter().map(|q| fill(q)).collect(),
            experiment: fill(&prompt.experiment),
        })
    }
}

/// The first `{name}` in `text` that is not a known variable.
fn check_variables(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}').ok_or_else(|| "(unclosed)".to_string())?;
        let name = &after[..end];
        if !VARIABLES.contains(&name) {
            return Err(name.to_string());
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// A reflective model: a few guiding questions and a template for the text box.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Short id used in commands and stored with each reflection (`gibbs`).
    pub id: String,
    /// Its name as shown ("Gibbs' reflective cycle").
    pub name: String,
    /// One line on what it is for.
    pub summary: String,
    /// Guiding questions, in order.
    pub questions: Vec<String>,
    /// Text that prefills the reflection box (may be empty).
    #[serde(default)]
    pub template: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelsFile {
    model: Vec<Model>,
}

/// Why the prompts could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PromptsError(pub String);

impl PromptsError {
    fn in_file(self, file: &str) -> PromptsError {
        PromptsError(format!("{file}: {}", self.0))
    }
}

/// A reflective model asked for by an id that no model has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("There is no reflective model `{asked}`. Choose one of: {}.", .known.join(", "))]
pub struct UnknownModel {
    /// The id as asked for.
    pub asked: String,
    /// The ids of the models there are, in the order offered.
    pub known: Vec<String>,
}

/// The reflective models, in the order offered.
#[derive(Debug, Clone)]
pub struct Models(Vec<Model>);

impl Models {
    /// The built-in models.
    pub fn builtin() -> Result<Models, PromptsError> {
        Models::parse(MODELS_SOURCE)
    }

    /// Parses and checks a models file: unique ids, at least two questions
    /// each, a `free` model, templates that fit a modal field.
    pub fn parse(text: &str) -> Result<Models, PromptsError> {
        Models::parse_checked(text).map_err(|e| e.in_file("prompts/models.toml"))
    }

    fn parse_checked(text: &str) -> Result<Models, PromptsError> {
        let file: ModelsFile = toml::from_str(text).map_err(|e| PromptsError(e.to_string()))?;
        let mut ids: Vec<&str> = Vec::new();
        for m in &file.model {
            if m.id.is_empty() || !m.id.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(PromptsError(format!(
                    "model id `{}` must be lowercase letters",
                    m.id
                )));
            }
            if ids.contains(&m.id.as_str()) {
                return Err(PromptsError(format!("model `{}` appears twice", m.id)));
            }
            ids.push(&m.id);
            if m.questions.len() < 2 {
                return Err(PromptsError(format!(
                    "model `{}` needs at least two questions",
                    m.id
                )));
            }
            if m.name.chars().count() > 100 || m.template.chars().count() > 1000 {
                return Err(PromptsError(format!(
                    "model `{}` has a name or template too long",
                    m.id
                )));
            }
        }
        if !ids.contains(&"free") {
            return Err(PromptsError("a `free` model is required".into()));
        }
        Ok(Models(file.model))
    }

    /// All models.
    pub fn all(&self) -> &[Model] {
        &self.0
    }

    /// The model a member asked for by id (case and surrounding spaces do not
    /// matter); an id no model has is refused with the list of ids there are.
    pub fn get(&self, id: &str) -> Result<&Model, UnknownModel> {
        let wanted = id.trim().to_lowercase();
        self.0
            .iter()
            .find(|m| m.id == wanted)
            .ok_or_else(|| UnknownModel {
                asked: id.trim().to_string(),
                known: self.0.iter().map(|m| m.id.clone()).collect(),
            })
    }

    /// The model with this id, or free writing: for ids already stored or
    /// chosen by the program, never for what a member typed (see [`Models::get`]).
    pub fn get_or_free(&self, id: &str) -> &Model {
        self.0
            .iter()
            .find(|m| m.id == id)
            .or_else(|| self.0.iter().find(|m| m.id == "free"))
            .unwrap_or(&self.0[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_models_load() {
        let models = Models::builtin().unwrap();
        let ids: Vec<&str> = models.all().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["free", "gibbs", "rolfe", "kolb"]);
        assert_eq!(models.get_or_free("nope").id, "free");
    }

    #[test]
    fn what_so_what_now_what_is_credited_to_borton_and_rolfe() {
        let models = Models::builtin().unwrap();
        let m = models.get("rolfe").unwrap();
        let credit = format!("{} {}", m.name, m.summary);
        assert!(credit.contains("Borton (1970)") || credit.contains("Borton's (1970)"));
        assert!(credit.contains("Rolfe et al. (2001)"), "{credit}");
        assert!(!m.name.starts_with("Rolfe"), "{}", m.name);
    }

    #[test]
    fn an_unknown_model_is_answered_with_the_models_there_are() {
        let models = Models::builtin().unwrap();
        assert_eq!(models.get("gibbs").unwrap().id, "gibbs");
        assert_eq!(models.get(" Kolb ").unwrap().id, "kolb");
        let unknown = models.get("driscoll").unwrap_err();
        assert_eq!(unknown.asked, "driscoll");
        let text = unknown.to_string();
        assert!(text.contains("`driscoll`"), "{text}");
        for m in models.all() {
            assert!(text.contains(&m.id), "{text} lacks {}", m.id);
        }
        assert!(models.get("").is_err());
    }

    #[test]
    fn every_competence_has_a_weekly_prompt() {
        let f = Framework::builtin().unwrap();
        let prompts = WeeklyPrompts::builtin(&f).unwrap();
        for c in f.competences() {
            let p = prompts.for_competence(&f, c.id).unwrap();
            assert!(p.questions.len() >= 2, "{}", c.id);
            assert!(
                p.questions
                    .iter()
                    .chain([&p.experiment])
                    .all(|t| !t.contains('{')),
                "{}",
                c.id
            );
        }
        let p = prompts
            .for_competence(&f, "core:3.5".parse().unwrap())
            .unwrap();
        assert!(p.experiment.contains("C3.5"), "{{code}} is filled in");
    }

    #[test]
    fn weekly_prompt_files_are_checked() {
        let f = Framework::builtin().unwrap();
        let one = |id: &str, q: &str| {
            format!("[[prompt]]\nid = \"{id}\"\nquestions = [\"{q}\", \"b\"]\nexperiment = \"e\"\n")
        };
        let all_but_first: String = COMPETENCES_SOURCE
            .split("[[prompt]]")
            .skip(2)
            .map(|p| format!("[[prompt]]{p}"))
            .collect();
        let missing = WeeklyPrompts::parse(&all_but_first, &f).unwrap_err();
        assert!(missing.0.contains("no prompt for `core:1.1`"), "{missing}");
        let unknown = format!("{COMPETENCES_SOURCE}\n{}", one("core:9.9", "a"));
        assert!(
            WeeklyPrompts::parse(&unknown, &f)
                .unwrap_err()
                .0
                .contains("not a competence")
        );
        let twice = format!("{COMPETENCES_SOURCE}\n{}", one("core:1.1", "a"));
        assert!(
            WeeklyPrompts::parse(&twice, &f)
                .unwrap_err()
                .0
                .contains("twice")
        );
        let variable = COMPETENCES_SOURCE.replacen("{code} in action", "{name} in action", 1);
        assert!(
            WeeklyPrompts::parse(&variable, &f)
                .unwrap_err()
                .0
                .contains("unknown variable {name}")
        );
    }

    #[test]
    fn broken_files_are_refused() {
        assert!(
            Models::parse(
                "[[model]]\nid = \"x\"\nname = \"X\"\nsummary = \"s\"\nquestions = [\"a\"]\n"
            )
            .is_err()
        );
        assert!(Models::parse("").is_err());
    }
}
