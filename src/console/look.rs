//! How the console's output looks: wrapped and styled for a terminal, plain when piped.

use std::io::{self, IsTerminal};

/// How the console's output looks: wrapped at word boundaries to a width
/// (on a terminal), with bold, italic and dim styling where the terminal
/// shows it, and plain text when piped or when `NO_COLOR` is set. The
/// Markdown emphasis the core writes for Discord (`**bold**`, `*italic*`
/// lines, `code`) becomes styling or disappears; it is never shown as is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Look {
    /// Wrap lines to this many columns; none leaves lines whole (for pipes).
    pub width: Option<usize>,
    /// Style with ANSI escape codes.
    pub colour: bool,
}

impl Look {
    /// What standard output can show: its width and colours on a terminal
    /// (honouring `NO_COLOR`, `CLICOLOR` and `TERM=dumb`), plain otherwise.
    pub fn for_stdout() -> Look {
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        let colour = matches!(
            anstream::AutoStream::choice(&stdout),
            anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi
        );
        Look {
            width: terminal.then(textwrap::termwidth),
            colour,
        }
    }

    fn styled(&self, style: anstyle::Style, text: &str) -> String {
        if self.colour && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    /// One line of the core's text: `**bold**` and `code` as styling (or
    /// plain), a line wrapped in single `*` as italic.
    fn inline(&self, line: &str) -> String {
        let bold = anstyle::Style::new().bold();
        let italic = anstyle::Style::new().italic();
        if let Some(inner) = line
            .strip_prefix('*')
            .and_then(|l| l.strip_suffix('*'))
            .filter(|l| !l.starts_with('*') && !l.is_empty())
        {
            return self.styled(italic, inner);
        }
        let mut out = String::new();
        let mut rest = line;
        let mut strong = false;
        while let Some(at) = rest.find("**") {
            let piece = rest[..at].replace('`', "");
            out.push_str(&if strong {
                self.styled(bold, &piece)
            } else {
                piece
            });
            strong = !strong;
            rest = &rest[at + 2..];
        }
        let piece = rest.replace('`', "");
        out.push_str(&if strong {
            self.styled(bold, &piece)
        } else {
            piece
        });
        out
    }

    /// Text of any length: each line styled, then wrapped to the width,
    /// keeping its indent on the lines it wraps onto.
    pub fn text(&self, text: &str) -> String {
        text.lines()
            .map(|line| {
                let styled = self.inline(line);
                match self.width {
                    Some(width) if textwrap::core::display_width(&styled) > width => {
                        let indent: String =
                            line.chars().take_while(|c| c.is_whitespace()).collect();
                        let hang = if line.trim_start().starts_with(['·', '-']) {
                            format!("{indent}  ")
                        } else {
                            indent
                        };
                        let options = textwrap::Options::new(width.max(20))
                            .subsequent_indent(&hang)
                            .break_words(false)
                            .word_separator(textwrap::WordSeparator::AsciiSpace);
                        textwrap::fill(&styled, options)
                    }
                    _ => styled,
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A card: its heading dim, its title bold and underlined by a rule, its
    /// text, each field under its name in bold, its footer dim.
    pub fn card(&self, card: &crate::render::Card) -> String {
        let dim = anstyle::Style::new().dimmed();
        let bold = anstyle::Style::new().bold();
        let mut out = Vec::new();
        if !card.heading.is_empty() {
            out.push(self.styled(dim, &self.text(&card.heading)));
        }
        out.push(self.styled(bold, &card.title));
        let rule = card
            .title
            .chars()
            .count()
            .clamp(8, self.width.unwrap_or(60).min(60));
        out.push("─".repeat(rule));
        if !card.description.is_empty() {
            out.push(self.text(&card.description));
            out.push(String::new());
        }
        for field in &card.fields {
            out.push(self.styled(bold, &format!("{}:", field.name)));
            out.push(self.text(&field.value));
            out.push(String::new());
        }
        if !card.footer.is_empty() {
            out.push(self.styled(dim, &self.text(&card.footer)));
        }
        while out.last().is_some_and(String::is_empty) {
            out.pop();
        }
        out.join("\n")
    }
}
