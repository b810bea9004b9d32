//! TLS to a server elsewhere, against a real PostgreSQL with `ssl = on`
//! whose certificate a test CA (made here with rcgen) signed for the name
//! `db.companion.test`.
//!
//! The server listens on 127.0.0.1, and the store reaches it as a server
//! elsewhere is reached: by a name that is not this machine's
//! (`db.companion.test`), with `hostaddr=127.0.0.1` saying where that name
//! is, as libpq reads it. The store's rule looks at both, and a name that is
//! neither `localhost` nor a loopback address is elsewhere, so TLS is
//! required and the certificate is checked against that name; no test-only
//! switch is needed and the packets stay on this machine. The server admits
//! TCP connections only over TLS and with a password (`hostssl … scram-sha-256`).
//!
//! The servers are made with `postgres`'s helpers and started as the
//! failover tests start theirs (`failover::Node`): no server outlives the
//! test process.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use practice_companion::store::{PgOptions, SecretKey, Store, StoreError};

use super::failover::{self, Node, primary_sql};
use super::postgres;
use super::store_engines::{save, texts};

/// The name the server's certificate is made for.
const NAME: &str = "db.companion.test";
/// The password of the server's `postgres` role.
const PASSWORD: &str = "a password that never crosses in plain text";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A server on 127.0.0.1 and what a client needs to reach it.
struct TlsServer {
    bin: PathBuf,
    root: PathBuf,
    node: Node,
    /// The CA that signed the server's certificate (PEM).
    ca: PathBuf,
    /// Another CA, which signed nothing the server shows.
    other_ca: PathBuf,
    password_file: PathBuf,
}

/// A test's own server, with `ssl = on` (`tls`) or off, or `None` (with the
/// reason on stderr) where PostgreSQL cannot run here and CI is not set.
/// Each test has its own, so that what one server logged is one test's.
fn server(tls: bool) -> Option<TlsServer> {
    match TlsServer::start(tls) {
        Ok(server) => Some(server),
        Err(why) if postgres::required() => {
            panic!("CI=true and the tests' PostgreSQL server with TLS cannot start: {why}")
        }
        Err(why) => {
            eprintln!("PostgreSQL over TLS not tested here: {why}");
            None
        }
    }
}

/// A CA: its certificate (PEM) and the issuer that signs with it.
fn make_ca(name: &str) -> (String, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let key = rcgen::KeyPair::generate().expect("a CA key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let cert = params.self_signed(&key).expect("the CA's certificate");
    (cert.pem(), rcgen::Issuer::new(params, key))
}

fn write(path: &Path, text: &str, mode: u32, owner: (u32, u32)) -> Result<(), String> {
    std::fs::write(path, text)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .and_then(|()| std::os::unix::fs::chown(path, Some(owner.0), Some(owner.1)))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

impl TlsServer {
    /// Starts a server on 127.0.0.1 that admits TCP clients with the
    /// password, over TLS only (`tls`) or without TLS at all (`ssl = off`).
    fn start(tls: bool) -> Result<TlsServer, String> {
        let bin = postgres::bin_dir()?;
        let user = postgres::server_user()?;
        // SAFETY: getuid and getgid have no preconditions.
        let me = unsafe { (libc::getuid(), libc::getgid()) };
        let root = std::env::temp_dir().join(format!(
            "companion-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        postgres::make_dir(&root, 0o755, me)?;
        let data = root.join("server");
        postgres::make_dir(&data, 0o700, user)?;
        if let Err(e) = postgres::initdb(&bin, user, &data, &root) {
            let _ = std::fs::remove_dir_all(&root);
            return Err(e);
        }

        let (ca_pem, ca) = make_ca("companion test CA");
        let (other_pem, _) = make_ca("companion test CA that signed nothing");
        let ca_path = root.join("ca.pem");
        let other_ca = root.join("other-ca.pem");
        write(&ca_path, &ca_pem, 0o644, me)?;
        write(&other_ca, &other_pem, 0o644, me)?;
        let server_key = rcgen::KeyPair::generate().expect("the server's key");
        let mut params = rcgen::CertificateParams::new(vec![NAME.to_string()]).expect("params");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&server_key, &ca)
            .expect("the server's certificate");
        write(&data.join("server.crt"), &cert.pem(), 0o600, user)?;
        write(
            &data.join("server.key"),
            &server_key.serialize_pem(),
            0o600,
            user,
        )?;
        // The socket for the tests' own psql; TCP only with the password,
        // and (with TLS) only over TLS.
        let tcp = if tls { "hostssl" } else { "host" };
        write(
            &data.join("pg_hba.conf"),
            &format!("local all all trust\n{tcp} all all 127.0.0.1/32 scram-sha-256\n"),
            0o600,
            user,
        )?;
        let mut settings: Vec<String> = ["log_connections=on"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        if tls {
            settings.extend(
                [
                    "ssl=on",
                    "ssl_cert_file=server.crt",
                    "ssl_key_file=server.key",
                ]
                .map(String::from),
            );
        }
        let args: Vec<String> = settings
            .into_iter()
            .flat_map(|s| ["-c".to_string(), s])
            .collect();
        let node = Node::start(&bin, user, &root, "server", &args, None)?;
        primary_sql(
            &bin,
            &node,
            &format!("ALTER ROLE postgres PASSWORD '{PASSWORD}'"),
        )?;
        let password_file = root.join("password");
        write(&password_file, PASSWORD, 0o600, me)?;
        Ok(TlsServer {
            bin,
            root,
            node,
            ca: ca_path,
            other_ca,
            password_file,
        })
    }

    /// A new database of its own for one test.
    fn database(&self) -> String {
        let name = format!("tls_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        primary_sql(&self.bin, &self.node, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot make the test's database: {e}"));
        name
    }

    /// Runs `sql` in `database` (over the socket).
    fn sql(&self, database: &str, sql: &str) -> String {
        postgres::psql(
            &self.bin,
            &self.node.socket_dir,
            Some(self.node.port),
            database,
            sql,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Whether anyone logged in over TCP with the password, or tried to.
    fn heard_a_password(&self) -> bool {
        let log = self.node.server.log_text();
        log.contains("method=scram-sha-256") || log.contains("password authentication")
    }

    /// The store's URL for `database`, by `host` (resolved to 127.0.0.1 by
    /// `hostaddr`), with `query` after it.
    fn url(&self, host: &str, database: &str, query: &str) -> String {
        format!(
            "postgres://postgres@{host}:{}/{database}?hostaddr=127.0.0.1{query}",
            self.node.port
        )
    }

    /// Opens the store at `url` with the password.
    fn open(&self, url: String, dir: &str) -> Result<Store, StoreError> {
        Store::open_postgres(
            &PgOptions {
                url,
                password_file: Some(self.password_file.clone()),
                shards: None,
            },
            &self.root.join(dir),
            Some(key()),
        )
    }

    /// How many of the store's tables `database` holds: none where nothing
    /// was opened.
    fn tables(&self, database: &str) -> String {
        self.sql(
            database,
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'companion%'",
        )
    }
}

fn key() -> SecretKey {
    static KEY: OnceLock<String> = OnceLock::new();
    let hex = KEY.get_or_init(|| SecretKey::generate().to_hex().to_string());
    SecretKey::from_hex(hex).expect("a key")
}

#[test]
fn over_tls_a_server_elsewhere_is_reached_with_the_ca_named_and_keeps_what_is_saved() {
    let Some(server) = server(true) else { return };
    let db = server.database();
    let ca = format!("&sslrootcert={}", server.ca.display());
    let store = server
        .open(server.url(NAME, &db, &ca), "saves")
        .expect("opens over TLS with the CA named");
    save(&store, 7, "kept over TLS");
    assert!(
        server.heard_a_password(),
        "the store logged in with the password, over TLS"
    );
    // Every connection of the store's is a TLS one (the server admits no
    // other over TCP; this says so from the server's side too).
    assert_eq!(
        server.sql(
            &db,
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = current_database() AND a.client_addr IS NOT NULL"
        )
        .split('|')
        .nth(1),
        Some("0"),
        "no connection of the store's is in plain text"
    );
    drop(store);

    // A failover URL: the first host does not answer, the second is the
    // server; each host's certificate is checked by its own name.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    let url = format!(
        "postgres://postgres@down.companion.test:{down},{NAME}:{}/{db}?hostaddr=127.0.0.1,127.0.0.1&target_session_attrs=read-write{ca}",
        server.node.port
    );
    let store = server
        .open(url, "saves")
        .expect("opens the host that answers");
    assert_eq!(texts(&store, 7), ["kept over TLS"]);

    // A `COMMIT` left waiting for a synchronous standby that never comes is
    // cancelled, and the cancel request (a connection of its own) goes
    // over TLS too: the server ends the wait, so the save is told it may
    // have been kept, not that the server did not answer.
    server.sql(
        "postgres",
        "ALTER SYSTEM SET synchronous_standby_names = 'nobody'",
    );
    server.sql("postgres", "SELECT pg_reload_conf()");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let err = failover::save(&store, "waits for a standby").expect_err("not confirmed");
    assert!(
        err.may_have_been_kept() && err.to_string().contains("no standby confirmed its copy"),
        "{err}"
    );
}

#[test]
fn over_tls_a_wrong_ca_another_name_no_ca_and_sslmode_disable_are_refused_and_nothing_is_opened() {
    let Some(server) = server(true) else { return };
    let db = server.database();
    let ca = format!("&sslrootcert={}", server.ca.display());
    let other = format!("&sslrootcert={}", server.other_ca.display());
    for (what, url, says) in [
        (
            "a CA that did not sign the server's certificate",
            server.url(NAME, &db, &other),
            "UnknownIssuer",
        ),
        (
            "no CA named: the machine's roots, which did not sign it",
            server.url(NAME, &db, ""),
            "UnknownIssuer",
        ),
        (
            "a certificate for another name",
            server.url("elsewhere.companion.test", &db, &ca),
            "elsewhere.companion.test",
        ),
        (
            "sslmode=disable",
            server.url(NAME, &db, &format!("&sslmode=disable{ca}")),
            "sslmode=disable",
        ),
    ] {
        let err = server
            .open(url, "refused")
            .err()
            .unwrap_or_else(|| panic!("{what}: opened"))
            .to_string();
        assert!(
            err.contains(says) && err.contains("nothing was opened") && err.contains("sslrootcert"),
            "{what}: {err}"
        );
        assert_eq!(server.tables(&db), "0", "{what}: nothing was opened");
    }
    // The refused connections never got as far as logging in.
    assert!(
        !server.heard_a_password(),
        "{}",
        server.node.server.log_text()
    );
}

#[test]
fn a_server_elsewhere_without_tls_is_refused_and_never_hears_the_password() {
    let Some(server) = server(false) else { return };
    let db = server.database();
    let ca = format!("&sslrootcert={}", server.ca.display());
    let Err(err) = server.open(server.url(NAME, &db, &ca), "plain") else {
        panic!("a server without TLS was opened as one elsewhere");
    };
    let err = err.to_string();
    assert!(
        err.contains("does not speak TLS")
            && err.contains("ssl = on")
            && err.contains("nothing was opened"),
        "{err}"
    );
    assert_eq!(server.tables(&db), "0");
    // The client reached the server, asked for TLS, and on its refusal
    // sent nothing more: no user name, no password.
    let log = server.node.server.log_text();
    assert!(log.contains("connection received: host=127.0.0.1"), "{log}");
    assert!(!server.heard_a_password(), "{log}");
    // The same server is reached in plain text when it is named as this
    // machine: a server on this machine may go without TLS.
    let local = format!("postgres://postgres@127.0.0.1:{}/{db}", server.node.port);
    let store = server.open(local, "plain").expect("opens on this machine");
    save(&store, 8, "kept on this machine");
    assert_eq!(texts(&store, 8), ["kept on this machine"]);
}
