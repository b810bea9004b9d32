//! Writing exports: new files, owner-only, never over a file nor through a
//! link, beside an earlier export rather than refused.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use super::Console;
use crate::commands::personal::{ExportKind, Personal};

/// Names for an export's files in `dir` that nothing there has yet (not
/// even a link): the names as given, or all of them with the same `-2`,
/// `-3`, … before the extension, so a second export the same day sits
/// beside the first.
pub(super) fn free_names(dir: &Path, names: &[&str]) -> Vec<String> {
    let taken = |name: &str| dir.join(name).symlink_metadata().is_ok();
    let numbered = |n: usize| -> Vec<String> {
        names
            .iter()
            .map(|name| match (n, name.rsplit_once('.')) {
                (1, _) => (*name).to_string(),
                (n, Some((stem, ext))) => format!("{stem}-{n}.{ext}"),
                (n, None) => format!("{name}-{n}"),
            })
            .collect()
    };
    (1..1000)
        .map(numbered)
        .find(|candidate| !candidate.iter().any(|name| taken(name)))
        .unwrap_or_else(|| numbered(1))
}

/// Writes a new file readable by its owner only: never over an existing
/// file, never through a symbolic link.
pub(super) fn write_private(path: &Path, content: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path)?;
    let written = file.write_all(content).and_then(|()| file.sync_all());
    if written.is_err() {
        // Never leave half an export behind.
        let _ = std::fs::remove_file(path);
    }
    written
}

impl<R: BufRead, W: Write> Console<'_, R, W> {
    pub(super) fn export(&mut self, kind: ExportKind, dir: Option<PathBuf>) -> io::Result<()> {
        let reply = match self.run_personal(Personal::Export(kind)) {
            Ok(reply) => reply,
            Err(problem) => return self.say(&format!("{problem}\n")),
        };
        let dir = dir.unwrap_or_else(|| PathBuf::from("."));
        let names: Vec<&str> = reply
            .attachments
            .iter()
            .map(|f| f.filename.as_str())
            .collect();
        let names = free_names(&dir, &names);
        let mut written = Vec::new();
        for (file, name) in reply.attachments.iter().zip(&names) {
            let path = dir.join(name);
            if let Err(e) = write_private(&path, &file.content) {
                let why = if e.kind() == io::ErrorKind::AlreadyExists {
                    "it exists already, and nothing is ever overwritten".to_string()
                } else {
                    e.to_string()
                };
                let again = match kind {
                    ExportKind::Supervision { .. } => "/log export <year> <folder>",
                    ExportKind::Everything | ExportKind::Cpd { .. } => {
                        "/reflections export <folder>"
                    }
                };
                self.say(&format!(
                    "error: cannot write {}: {why}. Give another folder: {again}\n",
                    path.display()
                ))?;
                break;
            }
            written.push(path.display().to_string());
        }
        if written.len() < reply.attachments.len() {
            for path in &written {
                self.say(&format!("  wrote {path}"))?;
            }
            return self.say("");
        }
        if let Some(text) = &reply.text {
            self.say(text)?;
        }
        for path in written {
            self.say(&format!("  wrote {path}"))?;
        }
        self.say("")
    }
}
