//! A team workspace on a PostgreSQL server: where it is (a `postgres://` URI completed with
//! libpq's environment and password file), the connection (TLS through rustls), and its schema.
//!
//! The URI and the variables follow libpq: `PGHOST` (a host name, or a folder holding the
//! server's Unix socket), `PGPORT`, `PGUSER`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`,
//! `PGPASSFILE` (else `~/.pgpass`, read only when no one but its owner can read it). A password
//! written in the URI is refused: it would sit in the shell's history and in `ps`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use super::StoreError;

/// Whether a `--db` value names a server rather than a file.
pub fn is_uri(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// How the connection is protected (libpq's `sslmode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    /// TLS when the server offers it, without checking its certificate.
    Prefer,
    /// TLS, without checking the server's certificate.
    Require,
    /// TLS, the certificate checked against the root certificate and the host name.
    VerifyFull,
}

/// A server workspace's location, ready to connect to.
#[derive(Clone)]
pub struct Server {
    pub config: postgres::Config,
    pub ssl: SslMode,
    pub root_cert: Option<PathBuf>,
    /// The URI as given, for messages (it holds no password).
    pub shown: String,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

fn bad(uri: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Server(format!("{uri}: {why}"))
}

/// Parses a `postgres://` URI and completes it from the environment and the password file.
pub fn parse(uri: &str) -> Result<Server, StoreError> {
    parse_with(uri, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

fn parse_with(uri: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Server, StoreError> {
    // sslmode and sslrootcert are taken out of the query: rust-postgres knows neither
    // verify-full nor root certificates.
    let (base, query) = match uri.split_once('?') {
        Some((b, q)) => (b, q),
        None => (uri, ""),
    };
    let authority = base.split_once("://").map(|(_, r)| r).unwrap_or("");
    let userinfo = authority.split('/').next().unwrap_or("");
    if let Some((info, _)) = userinfo.rsplit_once('@')
        && info.contains(':')
    {
        return Err(bad(
            "the workspace URI",
            "it holds a password, which assay never takes on the command line or in a URI; put it in ~/.pgpass (mode 0600) or the file PGPASSFILE names",
        ));
    }
    let mut ssl = env("PGSSLMODE");
    let mut root = env("PGSSLROOTCERT");
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => ssl = Some(v.to_string()),
            "sslrootcert" => root = Some(v.to_string()),
            "password" => {
                return Err(bad(
                    "the workspace URI",
                    "it holds a password, which assay never takes on the command line or in a URI; put it in ~/.pgpass (mode 0600) or the file PGPASSFILE names",
                ));
            }
            _ => kept.push(pair),
        }
    }
    let shown = uri.to_string();
    let rebuilt = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config = postgres::Config::from_str(&rebuilt).map_err(|e| bad(&shown, e))?;
    let ssl = match ssl.as_deref().unwrap_or("prefer") {
        "disable" => SslMode::Disable,
        "allow" | "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" | "verify-full" => SslMode::VerifyFull,
        other => {
            return Err(bad(
                &shown,
                format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-full (libpq's)"
                ),
            ));
        }
    };
    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(h) if h.starts_with('/') => {
                config.host_path(h);
            }
            Some(h) => {
                config.host(&h);
            }
            None => {
                let sock = Path::new("/var/run/postgresql");
                if sock.is_dir() {
                    config.host_path(sock);
                } else {
                    config.host("localhost");
                }
            }
        }
    }
    if config.get_ports().is_empty()
        && let Some(p) = env("PGPORT")
    {
        let port: u16 = p
            .parse()
            .map_err(|_| bad(&shown, format!("PGPORT={p} is not a port number")))?;
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .or_else(|| env("LOGNAME"))
            .ok_or_else(|| bad(&shown, "no user: name one in the URI or in PGUSER"))?;
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        let db = env("PGDATABASE").unwrap_or_else(|| config.get_user().unwrap_or("").to_string());
        config.dbname(&db);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("assay");
    if config.get_password().is_none()
        && let Some(pw) = pgpass_password(&config, env)?
    {
        config.password(pw);
    }
    let root_cert = match (ssl, root) {
        (SslMode::VerifyFull, Some(r)) => Some(PathBuf::from(r)),
        (SslMode::VerifyFull, None) => {
            let home = env("HOME").unwrap_or_default();
            Some(Path::new(&home).join(".postgresql/root.crt"))
        }
        _ => None,
    };
    Ok(Server {
        config,
        ssl,
        root_cert,
        shown,
    })
}

/// The host as the password file and messages name it: a socket folder is `localhost`.
fn host_name(config: &postgres::Config) -> String {
    match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    }
}

/// The password for this connection from `PGPASSFILE` or `~/.pgpass`: lines of
/// `host:port:database:user:password`, `*` matching anything, `\` escaping `:` and `\`. A file
/// that others can read is refused (libpq ignores it with a warning; assay says so and stops).
fn pgpass_password(
    config: &postgres::Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Vec<u8>>, StoreError> {
    let file = match env("PGPASSFILE") {
        Some(f) => PathBuf::from(f),
        None => match env("HOME") {
            Some(h) => Path::new(&h).join(".pgpass"),
            None => return Ok(None),
        },
    };
    let Ok(meta) = std::fs::metadata(&file) else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::Server(format!(
                "the password file {} can be read by others (mode {:o}); make it yours alone: chmod 600 {}",
                file.display(),
                mode & 0o777,
                file.display()
            )));
        }
    }
    if !meta.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&file)?;
    let host = host_name(config);
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let db = config.get_dbname().unwrap_or("");
    let user = config.get_user().unwrap_or("");
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() < 5 {
            continue;
        }
        let ok = |f: &str, v: &str| f == "*" || f == v;
        if ok(&fields[0], &host)
            && ok(&fields[1], &port)
            && ok(&fields[2], db)
            && ok(&fields[3], user)
        {
            return Ok(Some(fields[4..].join(":").into_bytes()));
        }
    }
    Ok(None)
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut().unwrap().push(n);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// Connects; the session waits at most `wait` for a lock (then says so) and is read committed.
pub fn connect(server: &Server, wait: Duration) -> Result<postgres::Client, StoreError> {
    let client = match server.ssl {
        SslMode::Disable => server.config.connect(postgres::NoTls),
        SslMode::Prefer | SslMode::Require | SslMode::VerifyFull => {
            let tls = tls::connector(server)?;
            let r = server.config.connect(tls);
            match r {
                // (prefer: a server without TLS is spoken to in the clear, as libpq does)
                Err(e) if server.ssl == SslMode::Prefer && tls::refused_tls(&e) => {
                    server.config.connect(postgres::NoTls)
                }
                r => r,
            }
        }
    }
    .map_err(|e| StoreError::Server(connect_message(server, &e)))?;
    let mut client = client;
    client
        .batch_execute(&format!(
            "SET lock_timeout = {}; SET idle_in_transaction_session_timeout = 0; SET client_min_messages = warning",
            wait.as_millis().max(1)
        ))
        .map_err(|e| StoreError::Server(format!("{}: {e}", server.shown)))?;
    Ok(client)
}

fn connect_message(server: &Server, e: &postgres::Error) -> String {
    let user = server.config.get_user().unwrap_or("");
    let db = server.config.get_dbname().unwrap_or("");
    let why = match e.as_db_error() {
        Some(d) => d.message().to_string(),
        None => {
            let s = e.to_string();
            match std::error::Error::source(e) {
                Some(src) => format!("{s}: {src}"),
                None => s,
            }
        }
    };
    // (a socket folder is named as such, not as the `localhost` the password file matches)
    let host = match server.config.get_hosts().first() {
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(dir)) => format!("the socket in {}", dir.display()),
        _ => host_name(&server.config),
    };
    let why = if why.contains("No such file or directory") {
        format!("{why}; is the server running?")
    } else {
        why
    };
    format!("cannot connect to the workspace database {db} on {host} as {user}: {why}")
}

mod tls {
    use super::*;
    use std::sync::Arc;

    pub fn refused_tls(e: &postgres::Error) -> bool {
        e.to_string().contains("server does not support TLS")
    }

    /// Accepts any certificate: libpq's `prefer` and `require` encrypt without checking who
    /// answers.
    #[derive(Debug)]
    struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

    impl rustls::client::danger::ServerCertVerifier for Unchecked {
        fn verify_server_cert(
            &self,
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &[rustls::pki_types::CertificateDer<'_>],
            _: &rustls::pki_types::ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    pub fn connector(
        server: &Server,
    ) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Server(format!("TLS: {e}")))?;
        let config = match (&server.ssl, &server.root_cert) {
            (SslMode::VerifyFull, Some(root)) => {
                let pem = std::fs::read(root).map_err(|e| {
                    StoreError::Server(format!(
                        "sslmode=verify-full needs the server's root certificate: cannot read {}: {e} (name it with sslrootcert= or PGSSLROOTCERT)",
                        root.display()
                    ))
                })?;
                let mut roots = rustls::RootCertStore::empty();
                let mut n = 0;
                for cert in rustls_pemfile_certs(&pem) {
                    roots
                        .add(cert)
                        .map_err(|e| StoreError::Server(format!("{}: {e}", root.display())))?;
                    n += 1;
                }
                if n == 0 {
                    return Err(StoreError::Server(format!(
                        "{} holds no PEM certificate",
                        root.display()
                    )));
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            _ => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
                .with_no_client_auth(),
        };
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }

    fn rustls_pemfile_certs(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::pem_slice_iter(pem)
            .filter_map(|c| c.ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_environment_completes_the_uri() {
        let s = parse_with(
            "postgres:///team",
            &env_of(&[
                ("PGHOST", "/tmp/sock"),
                ("PGPORT", "5433"),
                ("PGUSER", "ann"),
            ]),
        )
        .unwrap();
        assert_eq!(s.config.get_user(), Some("ann"));
        assert_eq!(s.config.get_dbname(), Some("team"));
        assert_eq!(s.config.get_ports(), &[5433]);
        assert_eq!(s.ssl, SslMode::Prefer);
    }

    #[test]
    fn a_password_in_the_uri_is_refused() {
        for uri in [
            "postgres://ann:secret@host/db",
            "postgresql://host/db?password=secret",
        ] {
            let e = parse_with(uri, &env_of(&[])).unwrap_err().to_string();
            assert!(e.contains("pgpass"), "{e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }

    #[test]
    fn sslmode_is_read_and_checked() {
        let s = parse_with(
            "postgres://ann@db.example/team?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(s.ssl, SslMode::VerifyFull);
        assert_eq!(s.root_cert.as_deref(), Some(Path::new("/etc/ca.pem")));
        let e = parse_with("postgres://ann@h/db?sslmode=sometimes", &env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sslmode=sometimes"), "{e}");
    }

    #[test]
    fn the_password_file_is_matched_and_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgpass");
        std::fs::write(
            &f,
            "# comment\nother:*:*:*:no\nlocalhost:5432:team:ann:s\\:cret\n",
        )
        .unwrap();
        let path: &'static str = Box::leak(f.display().to_string().into_boxed_str());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
            let pairs: &'static [(&str, &str)] = Box::leak(Box::new([("PGPASSFILE", path)]));
            let e = parse_with("postgres://ann@localhost:5432/team", &env_of(pairs))
                .unwrap_err()
                .to_string();
            assert!(e.contains("chmod 600"), "{e}");
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let pairs: &'static [(&str, &str)] = Box::leak(Box::new([("PGPASSFILE", path)]));
        let s = parse_with("postgres://ann@localhost:5432/team", &env_of(pairs)).unwrap();
        assert_eq!(s.config.get_password(), Some(&b"s:cret"[..]));
    }
}
