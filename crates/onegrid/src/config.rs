//! Typed configuration, loaded once at start.
//!
//! Sources, later ones winning: built-in defaults, an optional `onegrid.toml` (or the file named
//! by `--config`), `ONEGRID_*` environment variables, then command-line flags. The database URL
//! may carry a password, so it lives in a type that redacts itself in `Debug`.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use onegrid_store::{Location, OpenOptions};
use serde::{Deserialize, Serialize};

/// A value that must not appear in logs.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_once("://") {
            Some((scheme, _)) => write!(f, "{scheme}://[redacted]"),
            None => f.write_str("[redacted]"),
        }
    }
}

/// Everything the binary reads from its surroundings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Config {
    /// Directory of the embedded SQLite store (`ONEGRID_DATA`).
    pub data: PathBuf,
    /// A `postgres://` URL; wins over `data` when set (`ONEGRID_DATABASE_URL`).
    pub database_url: Option<Secret>,
    /// A `postgres://` URL of a streaming replica of `database_url`: figures, rankings and
    /// reports read there (`ONEGRID_REPLICA_URL`).
    #[serde(default)]
    pub replica_url: Option<Secret>,
    /// Address `serve` listens on (`ONEGRID_ADDR`).
    pub addr: String,
    /// Log filter in `tracing` syntax (`ONEGRID_LOG`).
    pub log: String,
    /// Seconds between runs of the overdue sweep (`ONEGRID_SWEEP_SECONDS`).
    pub sweep_seconds: u64,
    /// Share of a stage's time after which its light turns yellow (`ONEGRID_YELLOW_SHARE`).
    pub yellow_share: f64,
    /// 64 hex digits sealing phone and ID numbers at rest and keying their lookup hashes
    /// (`ONEGRID_SECRET_KEY`). Without it, SQLite keeps a generated one in `DATA/secret.key`;
    /// PostgreSQL requires it (every server of one database must share it).
    pub secret_key: Option<Secret>,
    /// The account policy (`[policy]`): password length and classes, lockout, session
    /// timeouts, retention. The defaults are the floor of 等保 level 3; lower values are refused.
    pub policy: onegrid_domain::access::PasswordPolicy,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data: PathBuf::from("onegrid-data"),
            database_url: None,
            replica_url: None,
            addr: "127.0.0.1:8080".to_owned(),
            log: "info,sqlx=warn,tower_http=info".to_owned(),
            sweep_seconds: 60,
            yellow_share: 0.8,
            secret_key: None,
            policy: onegrid_domain::access::PasswordPolicy::default(),
        }
    }
}

/// Values given on the command line, applied last.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_url: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let file = file.unwrap_or(Path::new("onegrid.toml"));
        let config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("ONEGRID_"))
            .merge(Serialized::defaults(overrides))
            .extract()?;
        Ok(config)
    }

    pub fn location(&self) -> Location {
        match &self.database_url {
            Some(url) if !url.0.is_empty() => Location::Postgres(url.0.clone()),
            _ => Location::Directory(self.data.clone()),
        }
    }

    /// The store's options besides its location.
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            replica_url: self
                .replica_url
                .as_ref()
                .map(|url| url.0.clone())
                .filter(|url| !url.is_empty()),
        }
    }

    /// The sample configuration file, written from the same defaults the binary uses.
    pub fn sample() -> String {
        let body = toml_lines(&Config::default());
        format!(
            "# onegrid.toml — every key may also be set as ONEGRID_<KEY> in the environment.\n\
             # database_url = \"postgres://user:password@127.0.0.1/onegrid\"  # wins over data\n\
             # replica_url = \"postgres://user:password@10.0.0.2/onegrid\"  # figures, reports\n\
             # secret_key = \"…64 hex digits…\"  # openssl rand -hex 32; required with PostgreSQL\n{body}"
        )
    }
}

fn toml_lines(config: &Config) -> String {
    let policy = &config.policy;
    format!(
        "data = {:?}\naddr = {:?}\nlog = {:?}\nsweep_seconds = {}\nyellow_share = {:?}\n\n\
         [policy]\nmin_length = {}\nmin_classes = {}\nmax_failures = {}\nlock_minutes = {}\n\
         idle_minutes = {}\nabsolute_hours = {}\nretention_days = {}\n",
        config.data.display().to_string(),
        config.addr,
        config.log,
        config.sweep_seconds,
        config.yellow_share,
        policy.min_length,
        policy.min_classes,
        policy.max_failures,
        policy.lock_minutes,
        policy.idle_minutes,
        policy.absolute_hours,
        policy.retention_days,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret("postgres://onegrid:hunter2@db/onegrid".to_owned());
        let shown = format!("{secret:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.starts_with("postgres://"));
    }

    #[test]
    fn flags_win_over_files_and_defaults() {
        let dir = std::env::temp_dir().join(format!("onegrid-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("onegrid.toml");
        std::fs::write(&file, "addr = \"0.0.0.0:9000\"\ndata = \"/srv/grid\"\n").unwrap();
        let config = Config::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(config.addr, "0.0.0.0:9000");
        assert_eq!(config.data, PathBuf::from("/srv/grid"));
        let overrides = Overrides {
            data: Some(PathBuf::from("/tmp/x")),
            ..Overrides::default()
        };
        let config = Config::load(Some(&file), &overrides).unwrap();
        assert_eq!(config.data, PathBuf::from("/tmp/x"));
        assert_eq!(
            config.location(),
            Location::Directory(PathBuf::from("/tmp/x"))
        );
    }

    #[test]
    fn the_replica_url_comes_from_the_file_or_the_flag() {
        let dir = std::env::temp_dir().join(format!("onegrid-replica-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("onegrid.toml");
        std::fs::write(&file, "replica_url = \"postgres://r1/onegrid\"\n").unwrap();
        let config = Config::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(
            config.open_options().replica_url.as_deref(),
            Some("postgres://r1/onegrid")
        );
        assert!(!format!("{config:?}").contains("r1/onegrid"), "redacted");
        let overrides = Overrides {
            replica_url: Some(Secret("postgres://r2/onegrid".to_owned())),
            ..Overrides::default()
        };
        let config = Config::load(Some(&file), &overrides).unwrap();
        assert_eq!(
            config.open_options().replica_url.as_deref(),
            Some("postgres://r2/onegrid")
        );
        let none = Config::load(Some(&dir.join("absent.toml")), &Overrides::default()).unwrap();
        assert_eq!(none.open_options(), OpenOptions::default());
    }

    #[test]
    fn the_sample_parses_back_to_the_defaults() {
        let parsed: Config = Figment::new()
            .merge(Toml::string(&Config::sample()))
            .extract()
            .unwrap();
        assert_eq!(parsed, Config::default());
    }
}
