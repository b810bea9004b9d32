//! TLS to the database server (rustls), and the rule for when it is needed.
//!
//! A server on this machine (a Unix socket, `localhost` or a loopback
//! address, and no `hostaddr` elsewhere) may be reached in plain text, as
//! before; TLS is used there only when the URL asks for it (`sslmode=require`
//! or `verify-full`, or a CA named with `sslrootcert`). As soon as one host
//! of the URL is elsewhere, every host is reached over TLS, and TLS here is
//! always verified: the server's certificate must chain to the CA file the
//! URL names (`sslrootcert=PATH`, as libpq reads it) or, without one, to the
//! machine's own trusted roots (rustls-native-certs: the roots the operator
//! keeps in the system's store, where a private CA can be added and which
//! the system's updates keep current; a list compiled into the program, as
//! webpki-roots is, could hold neither), and must name the host as the URL
//! does. `sslmode=disable` (or `allow`) with a host elsewhere is refused,
//! and `prefer` never falls back to plain text there: it is read as
//! `require`. The client asks for TLS before it sends anything else (even
//! the user's name), so no password reaches a server whose certificate was
//! not accepted.
//!
//! The URL's TLS words are read here and taken out before tokio-postgres
//! reads the rest (it knows neither `sslrootcert` nor `verify-full`).

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use deadpool_postgres::tokio_postgres::{self, config::Host, config::SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;

/// What the URL asked of TLS.
#[derive(Debug, Default, PartialEq, Eq)]
struct Asked {
    /// `sslmode`, as written.
    mode: Option<String>,
    /// `sslrootcert`, as written (a path, or `system`).
    root_cert: Option<String>,
}

/// Reads the database URL: its settings for tokio-postgres, with the TLS
/// mode set by the rule above, and the connector every connection is made
/// with (unused where the mode is `Disable`). Refuses a URL that would send
/// anything in plain text to a server elsewhere.
pub(crate) fn configure(
    url: &str,
) -> Result<(tokio_postgres::Config, MakeRustlsConnect), StoreError> {
    let (rest, asked) = take_tls_words(url)?;
    let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| {
        StoreError::Postgres(format!(
            "the database URL cannot be read ({e}). It looks like `postgres://USER@/DATABASE?host=/run/postgresql` (a Unix socket), `postgres://USER@127.0.0.1:5432/DATABASE`, or for a server elsewhere `postgres://USER@db.example.org/DATABASE?sslrootcert=/etc/companion/db-ca.pem`"
        ))
    })?;
    let hosts = hosts(&config);
    let elsewhere: Vec<&str> = hosts
        .iter()
        .filter(|h| !h.on_this_machine)
        .map(|h| h.label.as_str())
        .collect();
    // tokio-postgres's own reading, where the URL was not `postgres://…`.
    let mode = asked.mode.as_deref().or(match config.get_ssl_mode() {
        SslMode::Disable => Some("disable"),
        SslMode::Require => Some("require"),
        _ => None,
    });
    let tls = match mode {
        Some("disable" | "allow") if !elsewhere.is_empty() => {
            return Err(StoreError::Postgres(format!(
                "the database server {} is not on this machine and the URL asks for no TLS (`sslmode={}`): the password and every record would cross the network unencrypted, so nothing was opened. Take `sslmode` out of the URL (TLS is then required and its certificate checked) or write `sslmode=verify-full`, with `sslrootcert=PATH` naming the file of the CA that signed the server's certificate if the machine's trusted roots do not hold it",
                quoted(&elsewhere),
                mode.unwrap_or_default()
            )));
        }
        Some("disable" | "allow") => false,
        Some("require" | "verify-ca" | "verify-full") => true,
        None | Some("prefer") => !elsewhere.is_empty() || asked.root_cert.is_some(),
        Some(other) => {
            return Err(StoreError::Postgres(format!(
                "the database URL's `sslmode={other}` is not known; nothing was opened. Leave it out (a server elsewhere is then reached over verified TLS, one on this machine in plain text), or write `sslmode=verify-full` (TLS, its certificate checked) or, for a server on this machine only, `sslmode=disable`"
            )));
        }
    };
    if !tls {
        config.ssl_mode(SslMode::Disable);
        return Ok((config, connector(rustls::RootCertStore::empty())?));
    }
    for host in &hosts {
        if host.unix_socket {
            return Err(StoreError::Postgres(format!(
                "the database URL names the Unix socket {} beside TLS (to {}), and PostgreSQL does not speak TLS over a Unix socket, so nothing was opened. Name every server of the URL by its host name, each with a certificate for that name",
                host.label,
                if elsewhere.is_empty() {
                    "`sslmode` or `sslrootcert` asks for it".to_string()
                } else {
                    quoted(&elsewhere)
                }
            )));
        }
        if !host.named {
            return Err(StoreError::Postgres(format!(
                "the database server at {} has no host name in the URL, so its TLS certificate cannot be checked and nothing was opened. Give its name with `host=NAME` beside `hostaddr` (the name its certificate holds)",
                host.label
            )));
        }
    }
    config.ssl_mode(SslMode::Require);
    let roots = match asked.root_cert.as_deref() {
        None | Some("system") => system_roots()?,
        Some(path) => ca_file(path)?,
    };
    Ok((config, connector(roots)?))
}

/// A clear refusal for a connection whose TLS failed because the server is
/// not the one the URL names or does not speak TLS; `None` for any other
/// failure (a server that is down, which a caller may try again).
pub(crate) fn refusal(
    e: &tokio_postgres::Error,
    config: &tokio_postgres::Config,
) -> Option<StoreError> {
    let named = quoted(
        &hosts(config)
            .iter()
            .map(|h| h.label.as_str())
            .collect::<Vec<_>>(),
    );
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let rustls_error = s.downcast_ref::<rustls::Error>().or_else(|| {
            s.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(why) = rustls_error {
            return Some(StoreError::Postgres(format!(
                "the TLS connection to the database server ({named}) was refused ({why}), so nothing was sent to it, not even the password, and nothing was opened. Its certificate must be signed by the CA whose file `sslrootcert=PATH` in the URL names (without it, by one of this machine's trusted roots), and must name the host as the URL writes it"
            )));
        }
        if s.to_string() == "server does not support TLS" {
            return Some(StoreError::Postgres(format!(
                "the database server ({named}) does not speak TLS (it has `ssl = off`), and this connection is made only over TLS, so nothing was sent to it, not even the password, and nothing was opened. Turn TLS on at the server (`ssl = on`, with `ssl_cert_file` and `ssl_key_file`, in postgresql.conf)"
            )));
        }
        source = s.source();
    }
    None
}

/// The hosts as a list of quoted names.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One host of the URL, as the rule sees it.
struct HostSeen {
    label: String,
    on_this_machine: bool,
    unix_socket: bool,
    /// Whether it has a name to check its certificate against.
    named: bool,
}

/// Each host of the URL (with its `hostaddr`, where given), in order.
fn hosts(config: &tokio_postgres::Config) -> Vec<HostSeen> {
    let names = config.get_hosts();
    let addrs = config.get_hostaddrs();
    (0..names.len().max(addrs.len()))
        .map(|i| {
            let addr = addrs.get(i);
            let (label, by_name, unix_socket, named) = match names.get(i) {
                Some(Host::Tcp(name)) => (name.clone(), loopback(name), false, true),
                Some(Host::Unix(path)) => (path.display().to_string(), true, true, false),
                None => (String::new(), true, false, false),
            };
            let on_this_machine = by_name && addr.is_none_or(IpAddr::is_loopback);
            let label = match addr {
                Some(a) if label.is_empty() => a.to_string(),
                Some(a) => format!("{label} ({a})"),
                None => label,
            };
            HostSeen {
                label,
                on_this_machine,
                // A `hostaddr` beside a socket's path is reached over TCP.
                unix_socket: unix_socket && addr.is_none(),
                named,
            }
        })
        .collect()
}

/// Whether a host name is this machine: `localhost` or a loopback address.
fn loopback(name: &str) -> bool {
    name == "localhost"
        || name
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Takes `sslmode` and `sslrootcert` out of a `postgres://` URL's query; a
/// URL in the key-value form is left as it is.
fn take_tls_words(url: &str) -> Result<(String, Asked), StoreError> {
    let mut asked = Asked::default();
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let Some((base, query)) = url.split_once('?').filter(|_| is_url) else {
        return Ok((url.to_string(), asked));
    };
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = || {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| {
                    StoreError::Postgres(format!(
                        "the database URL's `{key}` is not UTF-8 once decoded; nothing was opened"
                    ))
                })
        };
        match key {
            "sslmode" => asked.mode = Some(value()?),
            "sslrootcert" => asked.root_cert = Some(value()?),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, asked))
}

/// The machine's trusted roots.
fn system_roots() -> Result<rustls::RootCertStore, StoreError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        let why = found
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(StoreError::Postgres(format!(
            "this machine has no trusted root certificates to check the database server's certificate against{}, so nothing was opened. Name the file of the CA that signed it in the URL: `sslrootcert=/etc/companion/db-ca.pem`",
            if why.is_empty() {
                String::new()
            } else {
                format!(" ({why})")
            }
        )));
    }
    Ok(roots)
}

/// The CA certificates of a PEM file the URL names.
fn ca_file(path: &str) -> Result<rustls::RootCertStore, StoreError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let bad = |why: String| {
        StoreError::Postgres(format!(
            "the CA file `sslrootcert={path}` cannot be used ({why}), so nothing was opened. Give a PEM file readable by the bot's user holding the certificate of the CA that signed the database server's certificate"
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    let (_, unusable) = roots.add_parsable_certificates(certs);
    if roots.is_empty() {
        return Err(bad(if unusable > 0 {
            format!("none of its {unusable} certificates can be read")
        } else {
            "it holds no certificate".to_string()
        }));
    }
    Ok(roots)
}

/// A connector that checks the server's certificate against `roots` and
/// its name, with ring's cryptography.
fn connector(roots: rustls::RootCertStore) -> Result<MakeRustlsConnect, StoreError> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| StoreError::Postgres(format!("cannot set up TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        match configure(url) {
            Ok(_) => panic!("{url} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    fn mode(url: &str) -> SslMode {
        configure(url).expect("accepted").0.get_ssl_mode()
    }

    #[test]
    fn this_machine_goes_in_plain_text_unless_the_url_asks_for_tls() {
        assert_eq!(
            mode("postgres://u@/db?host=/run/postgresql"),
            SslMode::Disable
        );
        assert_eq!(mode("postgres://u@127.0.0.1:5432/db"), SslMode::Disable);
        assert_eq!(
            mode("postgres://u@localhost/db?sslmode=prefer"),
            SslMode::Disable
        );
        assert_eq!(mode("postgres://u@[::1]/db"), SslMode::Disable);
        assert_eq!(mode("host=127.0.0.1 user=u dbname=db"), SslMode::Disable);
        assert_eq!(
            mode("postgres://u@127.0.0.1/db?sslmode=verify-full"),
            SslMode::Require
        );
    }

    #[test]
    fn a_server_elsewhere_is_reached_only_over_tls() {
        assert_eq!(mode("postgres://u@db.example.org/db"), SslMode::Require);
        assert_eq!(
            mode("postgres://u@db.example.org/db?sslmode=prefer"),
            SslMode::Require
        );
        assert_eq!(
            mode("host=db.example.org user=u dbname=db"),
            SslMode::Require
        );
        // A loopback name sent elsewhere by `hostaddr` is elsewhere.
        assert_eq!(
            mode("postgres://u@localhost/db?hostaddr=192.0.2.7"),
            SslMode::Require
        );
        // One host elsewhere: every host over TLS, each checked by its name.
        assert_eq!(
            mode(
                "postgres://u@127.0.0.1:5432,db.example.org:5432/db?target_session_attrs=read-write"
            ),
            SslMode::Require
        );
        for url in [
            "postgres://u@db.example.org/db?sslmode=disable",
            "postgres://u@db.example.org/db?sslmode=allow",
            "host=db.example.org sslmode=disable user=u dbname=db",
            "postgres://u@127.0.0.1,db.example.org/db?sslmode=disable",
        ] {
            let why = refused(url);
            assert!(
                why.contains("db.example.org")
                    && why.contains("nothing was opened")
                    && why.contains("sslrootcert=PATH"),
                "{url}: {why}"
            );
        }
    }

    #[test]
    fn what_cannot_carry_tls_is_said() {
        let why = refused("host=db.example.org,/run/postgresql user=u dbname=db");
        assert!(why.contains("Unix socket"), "{why}");
        let why = refused("postgres://u@/db?hostaddr=192.0.2.7");
        assert!(why.contains("host=NAME"), "{why}");
        let why = refused("postgres://u@db.example.org/db?sslmode=verify-sometimes");
        assert!(why.contains("sslmode=verify-full"), "{why}");
        let why = refused("postgres://u@db.example.org/db?sslrootcert=/no/such/ca.pem");
        assert!(
            why.contains("/no/such/ca.pem") && why.contains("PEM file"),
            "{why}"
        );
    }

    #[test]
    fn the_tls_words_are_taken_out_and_the_rest_kept() {
        let (rest, asked) = take_tls_words(
            "postgres://u@h1,h2/db?target_session_attrs=read-write&sslrootcert=%2Fetc%2Fca.pem&sslmode=verify-full&connect_timeout=3",
        )
        .expect("read");
        assert_eq!(
            rest,
            "postgres://u@h1,h2/db?target_session_attrs=read-write&connect_timeout=3"
        );
        assert_eq!(
            asked,
            Asked {
                mode: Some("verify-full".into()),
                root_cert: Some("/etc/ca.pem".into()),
            }
        );
    }
}
