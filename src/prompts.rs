//! Writing prompts shipped in `prompts/`: the reflective models that `/reflect`
//! offers. The files are compiled into the binary and checked when loaded.

use serde::Deserialize;

/// The reflective models file, compiled in.
pub const MODELS_SOURCE: &str = include_str!("../prompts/models.toml");

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
#[error("prompts/models.toml: {0}")]
pub struct PromptsError(pub String);

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

    /// The model with this id, or free writing.
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
