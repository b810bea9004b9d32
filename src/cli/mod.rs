//! The `companion` command line: lookups, search and framework tools for the
//! terminal and for scripts (`--json`).
//!
//! Exit codes: 0 found (or done), 1 not found (an invalid file for
//! `framework check`, problems found by `db check`), 2 bad usage (including a
//! `--framework` file that does not load), 3 a failure while running (a
//! database that will not open, a key that does not fit, a file that cannot
//! be written). Results go to stdout, messages to stderr.
//!
//! By job: this module is the arguments and running them (`db` included);
//! `text.rs` prints what lookups, search and the guide found as text;
//! `json.rs` is the JSON each prints with `--json`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod json;
mod text;

use clap::{Args, Parser, Subcommand};

use text::{export, show};

use crate::commands;
use crate::framework::{self, Framework};
use crate::library::Library;
use crate::search::{DEFAULT_LIMIT, Thesaurus};

/// Exit code for a result found.
const FOUND: u8 = 0;
/// Exit code for nothing found, or an invalid file under `framework check`.
const NOT_FOUND: u8 = 1;
/// Exit code for bad usage.
const USAGE: u8 = 2;
/// Exit code for a failure while running: the database, a key, a file.
const FAILED: u8 = 3;

/// How the command line writes the commands a message points to.
const SHELL: commands::Spelling = commands::Spelling {
    lookup: "companion lookup",
    search: "companion search",
    guide: "companion guide",
    part: "--part ",
};

/// Competence lookups and reflection for therapists who coach, built on the
/// BACP Coaching competence framework (2022).
#[derive(Parser, Debug)]
#[command(name = "companion", version, about, propagate_version = true)]
pub struct Cli {
    /// Load this framework file (same schema as framework/coaching-2022.toml)
    /// instead of the built-in one.
    #[arg(long, global = true, value_name = "PATH")]
    framework: Option<PathBuf>,

    /// Search with this thesaurus file (same schema as framework/thesaurus.toml)
    /// instead of the built-in one; it is checked against the framework first.
    #[arg(long, global = true, value_name = "PATH")]
    thesaurus: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Try the bot in the terminal: type /competence 3.5, /search strengths,
    /// /guide supervision, /reflect, /map, /help. Reads commands from stdin,
    /// so it can be scripted.
    Console(StoreArgs),
    /// Run the Discord bot (token from DISCORD_TOKEN or --token-file).
    Run(RunArgs),
    /// Print the link that adds the bot to a server, with the scopes and
    /// permissions it needs.
    Invite {
        /// The application id, from the Developer Portal's General Information page.
        application_id: u64,
    },
    /// Look up a competence, area or metacompetence: `3.5`, `C3.5`, `I3.5`,
    /// `core 2.10`, `area 3`, `meta 2`, `foundational`.
    Lookup(LookupArgs),
    /// Read the user guide's narrative sections: the contents with no
    /// SECTION; else the section with that id or title, or whose title or
    /// text holds the words (`companion guide supervision`).
    Guide(GuideArgs),
    /// Search the competences and the user guide's sections by keywords, best
    /// five first; words being typed are completed and slips forgiven.
    Search(SearchArgs),
    /// Export or check framework data.
    #[command(subcommand)]
    Framework(FrameworkCommand),
    /// Back up, restore or check the database (the key stays apart: see README).
    Db {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Write the whole database to FILE (still encrypted; never overwrites).
    Export {
        /// The backup file to create.
        file: PathBuf,
    },
    /// Restore FILE into an empty data directory (or, with --database, an
    /// empty PostgreSQL database, in one transaction), leaving out what the
    /// erasure record names, then check it.
    Import {
        /// The backup file.
        file: PathBuf,
        /// The erasure record (`erasures` in the data directory the backup
        /// came from). On PostgreSQL, the one in --data-dir is applied too.
        #[arg(long, value_name = "PATH")]
        erasures: Option<PathBuf>,
        /// Import with no erasure record: only if nobody was forgotten and
        /// nothing deleted since the backup was made.
        #[arg(long, conflicts_with = "erasures")]
        without_erasures: bool,
    },
    /// Check the database without changing it: its files, then every record
    /// of a private copy. Exits 1 if anything is wrong.
    Check,
    /// Replace a damaged database with the newest automatic backup (or
    /// --from FILE), then add back everything that still reads from the
    /// damaged one, leaving out what was erased, and remove it. On
    /// PostgreSQL, replace every record with those of the newest automatic
    /// backup in --data-dir (or --from FILE), verified first, in one
    /// transaction.
    Restore {
        /// Restore this backup instead of the newest automatic one.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Restore even though the erasure record is missing or damaged,
        /// starting a new one: what was erased since the backup may come back.
        #[arg(long)]
        without_erasures: bool,
    },
    /// Rebuild the database from every record that still reads and
    /// decrypts, leaving out what was erased (with no backup to restore).
    /// sled only: a PostgreSQL server keeps its own files whole.
    Salvage,
    /// Copy the whole store to the other engine: a sled data directory into
    /// an empty PostgreSQL database, or a PostgreSQL database into a new
    /// data directory; every record (members' keys, reflections, numbers,
    /// shares, schedules, settings, logs) and the erasure record. Stop the
    /// bot first. --data-dir is the PostgreSQL side's own directory (its
    /// erasure record), never the sled one; the key must be given
    /// (--key-file or COMPANION_KEY), the password as for --database. Every
    /// record is read back from the target and compared before success is
    /// reported; the source is only read. A migration cut short leaves the
    /// target refused at start until it is run again.
    Migrate {
        /// Where the store is: a sled data directory, or a PostgreSQL
        /// database (`postgres://USER@/DATABASE?host=/run/postgresql`).
        #[arg(long, value_name = "DIR|URL")]
        from: String,
        /// Where it goes: an empty PostgreSQL database, or a new data
        /// directory.
        #[arg(long, value_name = "DIR|URL")]
        to: String,
    },
}

/// Where the database is and its key: the same for the console, the bot
/// and `db`.
#[derive(Args, Debug)]
struct StoreArgs {
    /// Where the database lives (the console and the bot create it,
    /// owner-only, if missing).
    #[arg(
        long,
        env = "COMPANION_DATA_DIR",
        default_value = "./data",
        value_name = "DIR",
        global = true
    )]
    data_dir: PathBuf,
    /// Read the master key from this file (64 hex digits), e.g. a systemd
    /// credential, instead of COMPANION_KEY or the data directory's master.key.
    #[arg(long, value_name = "PATH", global = true)]
    key_file: Option<PathBuf>,
    /// Keep the records in this PostgreSQL database instead
    /// (`postgres://USER@/DATABASE?host=/run/postgresql`, no password in it;
    /// a server elsewhere only over TLS, its certificate checked against the
    /// system's roots or `?sslrootcert=CA.pem`);
    /// the data directory then keeps only the erasure record. The master key
    /// must be given (--key-file or COMPANION_KEY).
    #[arg(
        long,
        env = "COMPANION_DATABASE_URL",
        value_name = "URL",
        global = true,
        hide_env_values = true
    )]
    database: Option<String>,
    /// Read the database password from this file (else from the systemd
    /// credential `database-password`, if there is one).
    #[arg(long, value_name = "PATH", global = true)]
    database_password_file: Option<PathBuf>,
}

impl StoreArgs {
    /// The PostgreSQL database named, if one was.
    fn pg_options(&self) -> Option<crate::store::PgOptions> {
        self.database.as_ref().map(|url| crate::store::PgOptions {
            url: url.clone(),
            password_file: self.database_password_file.clone(),
            shards: None,
        })
    }

    /// Chooses the PostgreSQL database for this process, if one was named.
    fn choose_database(&self) {
        if let Some(opts) = self.pg_options() {
            crate::store::use_database(opts);
        }
    }
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Read the bot token from this file instead of DISCORD_TOKEN.
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    /// Base URL that replaces https://discord.com for every REST call (a
    /// rate-limit proxy such as twilight-http-proxy or nirn-proxy).
    #[arg(long, env = "DISCORD_API_URL", value_name = "URL")]
    api_url: Option<String>,
    /// Register the commands on this server only, for instant updates while developing.
    #[arg(long, value_name = "GUILD_ID")]
    dev_guild: Option<u64>,
    /// Ask Discord for the privileged message content intent, which the inline
    /// mode needs; enable it on the Developer Portal's Bot page first.
    #[arg(long, env = "COMPANION_MESSAGE_CONTENT")]
    message_content: bool,
    /// Run only these of Discord's gateway shards, e.g. `0-1` (with
    /// --shard-total), so that several processes on one PostgreSQL database
    /// share the servers; each acts only for the servers its shards own.
    #[arg(long, value_name = "A-B", requires = "shard_total")]
    shards: Option<String>,
    /// How many shards the whole deployment has (with --shards).
    #[arg(long, value_name = "N", requires = "shards")]
    shard_total: Option<u32>,
}

#[derive(Args, Debug)]
struct LookupArgs {
    /// What to look up, e.g. `3.5` or `core 3.5`.
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    query: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct GuideArgs {
    /// A section's id (`role-of-supervision`), its title, or words from it.
    #[arg(num_args = 0.., value_name = "SECTION")]
    section: Vec<String>,
    /// Print only this part of a long section (from 1), as Discord shows it.
    #[arg(long, value_name = "N", requires = "section", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=99))]
    part: Option<usize>,
    /// Print JSON instead of text: the section (`kind`, `id`, `title`,
    /// `within`, `text`, `discusses`), or `{"sections": [...]}` for the contents.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct SearchArgs {
    /// Words to search for, e.g. `theories of motivation`.
    #[arg(required = true, num_args = 1.., value_name = "WORDS")]
    words: Vec<String>,
    /// Print JSON (`{"results": [...]}`) instead of text.
    #[arg(long)]
    json: bool,
    /// How many results, 1 to 25.
    #[arg(long, default_value_t = DEFAULT_LIMIT, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=25))]
    limit: usize,
}

#[derive(Subcommand, Debug)]
enum FrameworkCommand {
    /// Print every competence: as JSON with `--json`, else as a list of codes and statements.
    Export {
        /// Print JSON: an object with a `competences` array.
        #[arg(long)]
        json: bool,
    },
    /// Validate a framework file and report the first problem with its line;
    /// then the thesaurus beside it (thesaurus.toml in the same folder, or the
    /// file given by --thesaurus), checked against that framework.
    Check {
        /// The file to check.
        path: PathBuf,
    },
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    private_umask();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(USAGE));
        }
    };
    ExitCode::from(run(cli))
}

/// Makes every file and directory this process creates owner-only, whoever
/// creates it (sled included), whatever the umask it was started with.
fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail
    // and touches no memory.
    unsafe {
        libc::umask(0o077);
    }
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> u8 {
    match &cli.command {
        Command::Framework(FrameworkCommand::Check { path }) => {
            return check(path, cli.thesaurus.as_deref());
        }
        Command::Invite { application_id } => {
            println!("{}", crate::discord::invite_url(*application_id));
            return FOUND;
        }
        _ => {}
    }
    let framework = match load(cli.framework.as_deref(), cli.thesaurus.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return USAGE;
        }
    };
    match &cli.command {
        Command::Console(store) | Command::Db { store, .. } => store.choose_database(),
        _ => {}
    }
    match cli.command {
        Command::Console(store) => {
            match crate::console::run_stdio(&framework, &store.data_dir, store.key_file) {
                Ok(true) => FOUND,
                Ok(false) => FAILED,
                Err(e) => {
                    eprintln!("error: {e}");
                    FAILED
                }
            }
        }
        Command::Run(args) => run_bot(framework, args),
        Command::Db { store, command } => db(&store, command),
        Command::Lookup(args) => {
            let answer = commands::lookup(&framework, &args.query.join(" "), None);
            show(&framework, &answer, args.json)
        }
        Command::Search(args) => {
            let answer = commands::search(&framework, &args.words.join(" "), args.limit);
            show(&framework, &answer, args.json)
        }
        Command::Guide(args) => {
            let answer = commands::guide(&framework, &args.section.join(" "), args.part);
            show(&framework, &answer, args.json)
        }
        Command::Framework(FrameworkCommand::Export { json }) => export(&framework, json),
        Command::Framework(FrameworkCommand::Check { .. }) | Command::Invite { .. } => USAGE,
    }
}

/// The built-in framework, or the file named by `--framework`; searched with
/// the built-in thesaurus, or the file named by `--thesaurus` once it has been
/// checked against that framework.
pub fn load(
    path: Option<&Path>,
    thesaurus: Option<&Path>,
) -> Result<Library, framework::FrameworkError> {
    let framework = match path {
        Some(p) => framework::load_file(p)?,
        None => Framework::builtin()?,
    };
    match thesaurus {
        Some(t) => {
            let thesaurus = Thesaurus::load_file(t)?;
            thesaurus.check_against(&framework)?;
            Ok(Library::new(framework, &thesaurus))
        }
        None => Ok(Library::new(framework, Thesaurus::builtin()?)),
    }
}

/// `companion db …`: backups, restores and checks, with the key from
/// `--key-file`, the environment, or the key file in the data directory.
fn db(args: &StoreArgs, command: DbCommand) -> u8 {
    use crate::store::{self, Store};
    let data_dir = args.data_dir.as_path();
    let key = match store::given_key(args.key_file.as_deref()) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return USAGE;
        }
    };
    if let Some(opts) = store::database() {
        return db_postgres(args, opts, key, command);
    }
    let problems = |text: &mut String, r: &store::Report| {
        for p in &r.problems {
            text.push_str(&format!("\nproblem: {p}"));
        }
    };
    let outcome = match command {
        DbCommand::Export { file } => Store::open_existing(data_dir, key)
            .and_then(|s| {
                let r = s.export_to(&file)?;
                s.close(chrono::Utc::now())?;
                Ok(r)
            })
            .map(|r| {
                let text = format!(
                    "exported {} records from {} trees to {} (encrypted; restore it with the same key)",
                    r.records,
                    r.trees,
                    file.display()
                );
                (text, true)
            }),
        DbCommand::Import {
            file,
            erasures,
            without_erasures,
        } => Store::import_from(&file, data_dir, key, erasures.as_deref(), without_erasures)
            .and_then(|(s, r)| {
                s.close(chrono::Utc::now())?;
                Ok(r)
            })
            .map(|r| {
                let mut text = format!("imported into {}: {}", data_dir.display(), r.summary());
                text.push_str(&erased_note(r.erased));
                problems(&mut text, &r);
                (text, r.problems.is_empty())
            }),
        DbCommand::Check => store::check_dir(data_dir, key).map(|r| {
            let mut text = if r.problems.is_empty() {
                format!("{}: {}, every one readable", data_dir.display(), r.summary())
            } else {
                format!(
                    "{}: {} readable; {} found",
                    data_dir.display(),
                    r.summary(),
                    if r.problems.len() == 1 {
                        "1 problem".to_string()
                    } else {
                        format!("{} problems", r.problems.len())
                    }
                )
            };
            problems(&mut text, &r);
            if let Some(step) = &r.next_step {
                text.push_str(&format!("\nwhat to do: {step}"));
            }
            (text, r.problems.is_empty())
        }),
        DbCommand::Restore {
            from,
            without_erasures,
        } => store::restore(data_dir, key, from.as_deref(), without_erasures).map(|r| {
            let mut text = format!(
                "restored into {}: {}, {} of them added back from the damaged database, which is now removed",
                data_dir.display(),
                r.summary(),
                r.salvaged
            );
            text.push_str(&erased_note(r.erased));
            problems(&mut text, &r);
            (text, r.problems.is_empty())
        }),
        DbCommand::Migrate { from, to } => return migrate(args, &from, &to),
        DbCommand::Salvage => store::salvage(data_dir, key).map(|r| {
            let mut text = format!(
                "salvaged {} from what still reads of the database into {}: now {}; the damaged copy is removed",
                if r.salvaged == 1 {
                    "1 reflection".to_string()
                } else {
                    format!("{} reflections", r.salvaged)
                },
                data_dir.display(),
                r.summary()
            );
            problems(&mut text, &r);
            (text, r.problems.is_empty())
        }),
    };
    match outcome {
        Ok((text, true)) => {
            println!("{text}");
            FOUND
        }
        Ok((text, false)) => {
            println!("{text}");
            NOT_FOUND
        }
        Err(e) => {
            eprintln!("error: {e}");
            FAILED
        }
    }
}

/// Whether a `--from` or `--to` names a PostgreSQL database.
fn is_database_url(place: &str) -> bool {
    place.starts_with("postgres://") || place.starts_with("postgresql://")
}

/// `companion db migrate --from … --to …`: one side a sled data directory,
/// the other a PostgreSQL database whose local directory is `--data-dir`.
fn migrate(store: &StoreArgs, from: &str, to: &str) -> u8 {
    use crate::store::{self, Location, PgOptions};
    let url = match (is_database_url(from), is_database_url(to)) {
        (true, false) => from,
        (false, true) => to,
        _ => {
            eprintln!(
                "error: `companion db migrate` moves a store between the two engines: one of --from and --to is a sled data directory, the other a PostgreSQL database (`postgres://USER@/DATABASE?host=/run/postgresql`). Nothing was changed."
            );
            return USAGE;
        }
    };
    if store.database.as_deref().is_some_and(|d| d != url) {
        eprintln!(
            "error: --database (or COMPANION_DATABASE_URL) names another database than the migration's; `companion db migrate` takes the database from --from or --to, so leave --database out (or unset the variable). Nothing was changed."
        );
        return USAGE;
    }
    let key = match store::given_key(store.key_file.as_deref()) {
        Ok(Some(key)) => key,
        Ok(None) => {
            eprintln!(
                "error: `companion db migrate` needs the master key given, with --key-file PATH or COMPANION_KEY: a PostgreSQL store never takes its key from a data directory. For a data directory that keeps its key in master.key, pass --key-file DIR/master.key. Nothing was changed."
            );
            return USAGE;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return USAGE;
        }
    };
    let database = Location::Postgres {
        opts: PgOptions {
            url: url.to_string(),
            password_file: store.database_password_file.clone(),
            shards: None,
        },
        dir: store.data_dir.clone(),
    };
    let (source, target) = if is_database_url(from) {
        (database, Location::Sled(PathBuf::from(to)))
    } else {
        (Location::Sled(PathBuf::from(from)), database)
    };
    match store::migrate(&source, &target, &key) {
        Ok(m) => {
            let key_note = match &target {
                Location::Sled(dir) => format!(
                    "; the key was not written into {}: give it as before (--key-file or COMPANION_KEY)",
                    dir.display()
                ),
                Location::Postgres { .. } => String::new(),
            };
            println!(
                "migrated {} into {}: {}; all {} records read back from the target and found as written, with the erasure record ({} entries). The source was only read and is as it was; keep it until the bot runs well on the new store, then remove it{key_note}.",
                source.describe(),
                target.describe(),
                m.report.summary(),
                m.compared,
                m.erasures
            );
            if m.report.problems.is_empty() {
                FOUND
            } else {
                for p in &m.report.problems {
                    println!("problem: {p}");
                }
                NOT_FOUND
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "note: the migration only read from {}; what it holds is as it was.",
                source.describe()
            );
            FAILED
        }
    }
}

/// What a restore left out, for the operator ("" when nothing was).
fn erased_note(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "; 1 record left out because the erasure record names it".to_string(),
        n => format!("; {n} records left out because the erasure record names them"),
    }
}

/// `companion db …` on PostgreSQL: export, check, import and restore;
/// salvage says why it is not for PostgreSQL and changes nothing.
fn db_postgres(
    args: &StoreArgs,
    opts: &crate::store::PgOptions,
    key: Option<crate::store::SecretKey>,
    command: DbCommand,
) -> u8 {
    let data_dir = args.data_dir.as_path();
    use crate::store::{Store, StoreError};
    let opened = |key| Store::open_postgres(opts, data_dir, key);
    let outcome = match command {
        DbCommand::Export { file } => opened(key)
            .and_then(|s| {
                let r = s.export_to(&file)?;
                s.close(chrono::Utc::now())?;
                Ok(r)
            })
            .map(|r| {
                (
                    true,
                    format!("exported to {}: {}", file.display(), r.summary()),
                )
            }),
        DbCommand::Check => opened(key)
            .and_then(|s| {
                let r = s.check()?;
                s.close(chrono::Utc::now())?;
                Ok(r)
            })
            .map(|r| {
                let mut text = format!("the PostgreSQL database: {}", r.summary());
                for p in &r.problems {
                    text.push_str(&format!("\nproblem: {p}"));
                }
                (r.problems.is_empty(), text)
            }),
        DbCommand::Import {
            file,
            erasures,
            without_erasures,
        } => Store::import_into_postgres(
            &file,
            opts,
            data_dir,
            key,
            erasures.as_deref(),
            without_erasures,
        )
        .and_then(|(s, r)| {
            s.close(chrono::Utc::now())?;
            Ok(r)
        })
        .map(|r| {
            let mut text = format!("imported into the PostgreSQL database: {}", r.summary());
            text.push_str(&erased_note(r.erased));
            for p in &r.problems {
                text.push_str(&format!("\nproblem: {p}"));
            }
            (r.problems.is_empty(), text)
        }),
        DbCommand::Restore {
            from,
            without_erasures,
        } => crate::store::restore_postgres(opts, data_dir, key, from.as_deref(), without_erasures)
            .map(|r| {
                let mut text = format!(
                    "restored into the PostgreSQL database: it now holds the backup's records ({}), in place of what it held before",
                    r.summary()
                );
                if let Some((path, made, passed_over)) = &r.chosen {
                    text.push_str(&format!(
                        "\nthe backup: {}, the newest automatic one in {} that opens with the key, made {} (anything saved after that is no longer in the database)",
                        path.display(),
                        data_dir.display(),
                        made.format("%Y-%m-%d %H:%M UTC")
                    ));
                    if *passed_over > 0 {
                        text.push_str(&format!(
                            "; passed over: {passed_over} newer {} that {} not open with the key (damaged, or another key's)",
                            if *passed_over == 1 { "backup" } else { "backups" },
                            if *passed_over == 1 { "does" } else { "do" }
                        ));
                    }
                }
                text.push_str(&erased_note(r.erased));
                for p in &r.problems {
                    text.push_str(&format!("\nproblem: {p}"));
                }
                (r.problems.is_empty(), text)
            }),
        DbCommand::Salvage => Err(StoreError::NotForPostgres(
            crate::store::POSTGRES_NEEDS_NO_SALVAGE,
        )),
        DbCommand::Migrate { from, to } => return migrate(args, &from, &to),
    };
    match outcome {
        Ok((true, text)) => {
            println!("{text}");
            FOUND
        }
        Ok((false, text)) => {
            println!("{text}");
            NOT_FOUND
        }
        Err(e @ (StoreError::NotOnPostgres | StoreError::NotForPostgres(_))) => {
            eprintln!("error: {e}");
            USAGE
        }
        Err(e) => {
            eprintln!("error: {e}");
            FAILED
        }
    }
}

/// Starts the Discord bot; returns when it has shut down.
fn run_bot(framework: Library, args: RunArgs) -> u8 {
    init_logging();
    let token = match read_token(args.token_file.as_deref()) {
        Ok(token) => token,
        Err(message) => {
            eprintln!("error: {message}");
            return USAGE;
        }
    };
    let shards = match (&args.shards, args.shard_total) {
        (Some(range), Some(total)) => match crate::shards::ShardRange::parse(range, total) {
            Ok(r) => Some(r),
            Err(message) => {
                eprintln!("error: {message}");
                return USAGE;
            }
        },
        _ => None,
    };
    let config = crate::discord::Config {
        token,
        shards,
        api_url: args.api_url,
        database: args.store.pg_options(),
        data_dir: args.store.data_dir,
        key_file: args.store.key_file,
        framework: std::sync::Arc::new(framework),
        dev_guild: args.dev_guild,
        message_content: args.message_content,
        clock: std::sync::Arc::new(crate::clock::SystemClock),
        scheduler_events: None,
        http_timeout: std::time::Duration::from_secs(20),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return FAILED;
        }
    };
    match runtime.block_on(crate::discord::run_until(config, shutdown_signal())) {
        Ok(()) => FOUND,
        Err(e @ crate::discord::RunError::Shards(_)) => {
            eprintln!("error: {e}");
            USAGE
        }
        Err(e) => {
            eprintln!("error: {e}");
            FAILED
        }
    }
}

/// The token from `--token-file`, else `DISCORD_TOKEN`; never printed.
fn read_token(file: Option<&std::path::Path>) -> Result<String, String> {
    let token = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?,
        None => std::env::var("DISCORD_TOKEN").unwrap_or_default(),
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(
            "no bot token: set DISCORD_TOKEN or pass --token-file PATH (see README, \"Running the Discord bot\")"
                .to_string(),
        );
    }
    Ok(token)
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Logs to stderr; `RUST_LOG` adjusts the level (default: info for this crate,
/// warnings for the libraries).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,practice_companion=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn check(path: &Path, thesaurus: Option<&Path>) -> u8 {
    let f = match framework::load_file(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return NOT_FOUND;
        }
    };
    let domains: Vec<String> = f
        .domains()
        .iter()
        .map(|d| format!("{} {}", f.count_in(d.id), d.id))
        .collect();
    println!(
        "{}: valid: {} {} ({}), {} competences ({}), {} sections of the user guide",
        path.display(),
        f.publisher,
        f.name,
        f.year,
        f.competences().len(),
        domains.join(", "),
        f.sections().len()
    );
    let beside = path
        .parent()
        .map(|dir| dir.join("thesaurus.toml"))
        .filter(|p| p.is_file());
    let Some(thesaurus_path) = thesaurus.map(Path::to_path_buf).or(beside) else {
        println!("(no thesaurus.toml beside it to check)");
        return FOUND;
    };
    let checked =
        Thesaurus::load_file(&thesaurus_path).and_then(|t| t.check_against(&f).map(|()| t));
    match checked {
        Ok(t) => {
            println!(
                "{}: valid: {} entries, {} everyday phrases, {} incidental words; every framework phrase occurs in the framework",
                thesaurus_path.display(),
                t.entry_count(),
                t.everyday_count(),
                t.incidental_count()
            );
            FOUND
        }
        Err(e) => {
            eprintln!("error: {e}");
            NOT_FOUND
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
