//! `onegrid`: one binary whose subcommands are its roles — serve, import, export, locate,
//! demo, bench.

mod bench;
mod config;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use onegrid_app::App;
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::divisions::DivisionFile;
use onegrid_domain::Level;
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::FieldNames;

use crate::config::{Config, Overrides, Secret};

#[derive(Debug, Parser)]
#[command(name = "onegrid", version, about = "一网通管：全科网格社会治理平台")]
struct Cli {
    /// Directory of the embedded SQLite store [env: ONEGRID_DATA] [default: ./onegrid-data]
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); wins over --data [env: ONEGRID_DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    /// PostgreSQL streaming replica for figures, rankings and reports [env: ONEGRID_REPLICA_URL]
    #[arg(long, global = true, value_name = "URL")]
    replica_url: Option<String>,
    /// Configuration file [default: ./onegrid.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (and, with --demo, build the demo city on first start).
    Serve {
        /// Address to listen on [env: ONEGRID_ADDR] [default: 127.0.0.1:8080]
        #[arg(long)]
        addr: Option<String>,
        /// Load the demo city 晋中市 on first start.
        #[arg(long)]
        demo: bool,
    },
    /// Build the demo city 晋中市 into the store (once).
    Demo,
    /// Import division codes or polygons.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export stored data.
    #[command(subcommand)]
    Export(ExportCommand),
    /// The grid (or deepest area) that contains a point, with its chain, as JSON.
    Locate(LocateArgs),
    /// Measure the product's speed (see docs/benchmarks.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print a sample onegrid.toml with the defaults.
    SampleConfig,
    /// The full-process record.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Replace the case taxonomy (大类/小类, time limits, responsibility matrix) from JSON.
    Taxonomy {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Replace the working-day calendar's special days from CSV (date,kind,name).
    Calendar {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Run the overdue sweep once: mark, escalate and urge cases past their deadlines.
    Sweep,
    /// Run background jobs (deadline checks, notices to units) until stopped, without serving
    /// HTTP; `serve` runs the same worker. Any number may share one PostgreSQL store.
    Worker {
        /// Run the jobs due now once and exit, printing what was done.
        #[arg(long)]
        once: bool,
    },
    /// Write a consistent copy of the whole store (SQLite) to FILE while it serves.
    Backup { file: PathBuf },
    /// Put a backup in place as the store of --data DIR; DIR must hold no store yet. The copy
    /// is checked first (it opens, migrates and its record verifies).
    Restore { file: PathBuf },
    /// Copy a city from SQLite (a data directory or its store file) into an empty PostgreSQL
    /// database: every table raw, so the record's hashes and chains stay as they are; counts
    /// compared and chains walked before one commit (all or nothing).
    Copy {
        /// The SQLite data directory, or its onegrid.sqlite3 file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The target database, postgres://…; it must hold no data yet.
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Bring the store's schema up to date (every command does this on start; this does
    /// only that, for deployments that migrate as a separate step).
    Migrate,
    /// The periodic report of a region: figures in prose, categories, trend, ranking.
    Report {
        /// Region code (or grid code).
        #[arg(long)]
        region: String,
        /// First report date, YYYY-MM-DD (Asia/Shanghai).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last report date, included.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// text, json, csv or xlsx.
        #[arg(long, default_value = "text")]
        format: String,
        /// Write the report to FILE instead of standard output; required by xlsx.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The rollups behind the figures.
    #[command(subcommand)]
    Rollup(RollupCommand),
    /// Accounts and the roles they hold.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for other systems.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account: `onegrid user create NAME --role ROLE[,ROLE…] --scope CODE`. Roles may
    /// carry their own scope (`grid_worker@140702001001001`). Without --password-stdin a random
    /// password is printed; administrators get a TOTP secret, printed once.
    Create {
        login: String,
        /// Role ids, comma-separated: grid_worker community_staff centre_intake
        /// centre_dispatcher centre_lead unit_handler leader procurator enforcement_supervisor
        /// system_admin security_admin audit_admin resident.
        #[arg(long, value_delimiter = ',', required = true)]
        role: Vec<String>,
        /// A region code, or a unit (`140702:urban_management`), for roles without their own.
        #[arg(long, default_value = "")]
        scope: String,
        /// The name shown (the login when absent).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lift the lock on an account.
    Unlock { login: String },
    /// Turn on a TOTP second factor and print its secret.
    Totp { login: String },
    /// List the accounts and their roles.
    List,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token that acts as account NAME; prints the token as its last word.
    Create {
        login: String,
        /// What the token is for.
        #[arg(long)]
        name: Option<String>,
        /// Narrow the account's roles to this region or unit.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
enum RollupCommand {
    /// Recompute every rollup from the cases.
    Rebuild,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute every hash chain; exit 0 when intact, 3 naming the first broken record.
    Verify,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Check a file and make it the one in force.
    Import { file: PathBuf },
    /// Print the one in force.
    Export,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Division codes: china-division CSV files or plain code,name,parent_code,level CSV. Several
    /// files form one import: all of it is stored, or nothing.
    Divisions {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Polygons of one level from a GeoJSON FeatureCollection: all or nothing.
    Areas {
        file: PathBuf,
        #[arg(long)]
        level: Level,
        /// Property holding the code (the feature's `id` is the fallback).
        #[arg(long, default_value = "code")]
        code_field: String,
        #[arg(long, default_value = "name")]
        name_field: String,
        #[arg(long, default_value = "parent")]
        parent_field: String,
        /// Coordinate system of the file: wgs84, cgcs2000 or gcj02.
        #[arg(long, default_value = "wgs84")]
        crs: Crs,
    },
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// The stored polygons of one level as GeoJSON, as imported (in WGS-84).
    Areas {
        #[arg(long)]
        level: Level,
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct LocateArgs {
    /// Longitude (WGS-84).
    #[arg(allow_negative_numbers = true, required_unless_present = "batch")]
    lon: Option<f64>,
    /// Latitude (WGS-84).
    #[arg(allow_negative_numbers = true, required_unless_present = "batch")]
    lat: Option<f64>,
    /// A CSV file of lon,lat rows; answers lon,lat,grid and the chain's codes.
    #[arg(long, conflicts_with_all = ["lon", "lat"])]
    batch: Option<PathBuf>,
    /// Where to write the batch answer [default: standard output].
    #[arg(long, requires = "batch")]
    out: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        data: cli.data.clone(),
        database_url: cli.database.clone().map(Secret),
        replica_url: cli.replica_url.clone().map(Secret),
        addr: match &cli.command {
            Command::Serve { addr, .. } => addr.clone(),
            _ => None,
        },
    };
    let config = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: configuration: {error:#}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn open_app(config: &Config) -> anyhow::Result<App> {
    let store = onegrid_store::open_with(&config.location(), &config.open_options())
        .await
        .context("opening the store")?;
    let keys = secret_keys(config)?;
    let settings = onegrid_app::access::AccessSettings::new(keys, config.policy.clone());
    Ok(App::load(store).await?.with_access(settings)?)
}

/// The configured key; for SQLite without one, the key kept beside the database (made on first
/// start, readable by the owner only).
fn secret_keys(config: &Config) -> anyhow::Result<onegrid_app::secrets::Keys> {
    if let Some(key) = &config.secret_key
        && !key.0.trim().is_empty()
    {
        return Ok(onegrid_app::secrets::Keys::parse(&key.0)?);
    }
    let onegrid_store::Location::Directory(dir) = config.location() else {
        bail!(
            "secret_key is required with PostgreSQL (every server of one database shares it): \
             set ONEGRID_SECRET_KEY to 64 hex digits, e.g. from `openssl rand -hex 32`"
        );
    };
    let path = dir.join("secret.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return onegrid_app::secrets::Keys::parse(&text)
            .with_context(|| format!("reading {}", path.display()));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let hex: String = onegrid_app::secrets::random_bytes::<32>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    write_private(&path, &hex)?;
    tracing::warn!(
        path = %path.display(),
        "no secret_key configured: generated one beside the database; back it up with the \
         data (sealed phone and ID numbers cannot be read without it)"
    );
    Ok(onegrid_app::secrets::Keys::parse(&hex)?)
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

async fn run(command: Command, config: Config) -> anyhow::Result<std::process::ExitCode> {
    if let Command::SampleConfig = command {
        print!("{}", Config::sample());
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if let Command::Restore { file } = &command {
        return restore(&config, file).await;
    }
    if let Command::Copy { from, to } = &command {
        return copy(from, to).await;
    }
    let app = open_app(&config).await?;
    app.set_yellow_share(config.yellow_share)?;
    match command {
        Command::Serve { demo, .. } => serve(app, &config, demo).await?,
        Command::Demo => {
            let report = app.load_demo_city().await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Import(ImportCommand::Divisions { files }) => {
            let mut inputs = Vec::new();
            for file in &files {
                inputs.push(DivisionFile {
                    name: file.display().to_string(),
                    text: std::fs::read_to_string(file)
                        .with_context(|| format!("reading {}", file.display()))?,
                });
            }
            let report = app.import_divisions(&inputs).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Import(ImportCommand::Areas {
            file,
            level,
            code_field,
            name_field,
            parent_field,
            crs,
        }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let options = AreaImportOptions {
                level,
                fields: FieldNames {
                    code: code_field,
                    name: name_field,
                    parent: parent_field,
                },
                crs,
            };
            let report = app.import_areas(&text, &options).await?;
            for warning in report.warnings() {
                eprintln!("warning: {warning}");
            }
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Export(ExportCommand::Areas { level, file }) => {
            let text = app.export_areas(level).await?;
            std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
        }
        Command::Locate(args) => return locate(&app, args),
        Command::Bench(command) => bench::run(&app, command).await?,
        Command::SampleConfig => {}
        Command::Audit(AuditCommand::Verify) => {
            let started = Instant::now();
            let report = app.verify_audit().await?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "intact": report.is_intact(),
                    "records": report.records,
                    "chains": report.chains,
                    "checkpoints": report.checkpoints,
                    "first_problem": report.first_problem,
                    "seconds": seconds,
                }))?
            );
            if let Some(problem) = report.first_problem {
                eprintln!("error: the record is broken: {problem}");
                return Ok(std::process::ExitCode::from(3));
            }
        }
        Command::Taxonomy { command } => match command {
            RulesCommand::Import { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                app.replace_taxonomy(&text).await?;
                eprintln!("taxonomy replaced from {}", file.display());
            }
            RulesCommand::Export => {
                println!("{}", serde_json::to_string_pretty(&app.rules().taxonomy)?);
            }
        },
        Command::Calendar { command } => match command {
            RulesCommand::Import { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                app.replace_calendar(&text).await?;
                eprintln!("calendar replaced from {}", file.display());
            }
            RulesCommand::Export => {
                let rules = app.rules();
                println!("date,kind,name");
                if let Some((first, last)) = rules.calendar.listed_range() {
                    for date in first.iter_days().take_while(|d| *d <= last) {
                        if let Some(day) = rules.calendar.special_day(date) {
                            println!("{},{},{}", day.date, day.kind.as_str(), day.name);
                        }
                    }
                }
            }
        },
        Command::Report {
            region,
            from,
            to,
            format,
            out,
        } => {
            let code = onegrid_domain::RegionCode::parse(&region)
                .map_err(|e| anyhow::anyhow!("--region: {e}"))?;
            let period = onegrid_app::figures::Period::new(from, to)?;
            if !matches!(format.as_str(), "text" | "json" | "csv" | "xlsx") {
                bail!("--format: '{format}' is not text, json, csv or xlsx");
            }
            if format == "xlsx" && out.is_none() {
                bail!("--format xlsx writes a workbook: give --out FILE");
            }
            let report = app.report(&code, period).await?;
            let bytes = match format.as_str() {
                "text" => report.to_text().into_bytes(),
                "json" => format!("{}\n", serde_json::to_string_pretty(&report)?).into_bytes(),
                "csv" => report.to_csv().into_bytes(),
                _ => report.to_xlsx()?,
            };
            match out {
                Some(file) => {
                    std::fs::write(&file, bytes)
                        .with_context(|| format!("writing {}", file.display()))?;
                    eprintln!("report written to {}", file.display());
                }
                None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
            }
        }
        Command::Rollup(RollupCommand::Rebuild) => {
            let counted = app.rebuild_rollups().await?;
            eprintln!("rollups rebuilt from {counted} cases");
        }
        Command::User(command) => user_command(&app, command).await?,
        Command::Token(TokenCommand::Create { login, name, scope }) => {
            let system = onegrid_app::access::Principal::system();
            let name = name.unwrap_or_else(|| format!("{login} API"));
            let grant = app
                .create_token(&system, &login, &name, scope.as_deref())
                .await?;
            eprintln!(
                "token {} for {login} (shown once; revoke with `onegrid token revoke {}`)",
                grant.record.id, grant.record.id
            );
            println!("{}", grant.token);
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            app.revoke_token(&onegrid_app::access::Principal::system(), &id)
                .await?;
            eprintln!("token {id} revoked");
        }
        Command::Backup { file } => {
            app.store().backup_to(&file).await?;
            eprintln!("backup written to {}", file.display());
        }
        Command::Restore { .. } | Command::Copy { .. } => {}
        Command::Migrate => {
            eprintln!("{} store is up to date", app.store().engine());
        }
        Command::Worker { once } => {
            let worker = onegrid_app::jobs::worker_name();
            if once {
                let report = app.run_due_jobs(&worker, chrono::Utc::now(), 32).await?;
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                tracing::info!(%worker, engine = app.store().engine(), "worker started");
                tokio::select! {
                    () = work_forever(app.clone(), worker) => {},
                    () = shutdown_signal() => {},
                }
            }
        }
        Command::Sweep => {
            let report = app.sweep_overdue(chrono::Utc::now()).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn serve(app: App, config: &Config, demo: bool) -> anyhow::Result<()> {
    if demo {
        let started = Instant::now();
        let report = app.load_demo_city().await?;
        if !report.already_loaded {
            tracing::info!(
                grids = report.grids,
                villages = report.villages,
                seconds = started.elapsed().as_secs_f64(),
                "demo city 晋中市 built"
            );
        }
        let logins = app.demo_accounts().await?;
        println!("演示账户（每个角色一个，密码相同）：");
        for login in &logins {
            let totp = login
                .totp_secret
                .as_deref()
                .map(|s| format!("  TOTP {s}"))
                .unwrap_or_default();
            println!(
                "  {:<30} {:<12} {:<22} 密码 {}{totp}",
                login.login, login.role_label, login.scope, login.password
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .with_context(|| format!("listening on {}", config.addr))?;
    let address = listener.local_addr()?;
    tracing::info!(
        engine = app.store().engine(),
        "onegrid serving on http://{address}"
    );
    println!("onegrid 一网通管 serving on http://{address}");
    let sweeper = tokio::spawn(sweep_forever(app.clone(), config.sweep_seconds));
    let worker = tokio::spawn(work_forever(app.clone(), onegrid_app::jobs::worker_name()));
    onegrid_server::serve(listener, app, shutdown_signal()).await?;
    sweeper.abort();
    worker.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn user_command(app: &App, command: UserCommand) -> anyhow::Result<()> {
    use onegrid_app::access::{Principal, parse_assignment_list};
    let system = Principal::system();
    let account_id = |login: String| async move {
        app.store()
            .account_by_login(&login)
            .await?
            .map(|a| a.id)
            .with_context(|| format!("no account '{login}'"))
    };
    match command {
        UserCommand::Create {
            login,
            role,
            scope,
            name,
            password_stdin,
        } => {
            let assignments = parse_assignment_list(&role, &scope)?;
            let (password, shown) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (onegrid_app::secrets::random_password(), true)
            };
            let administrator = assignments.iter().any(|a| a.role.is_administrator());
            let account = app
                .create_account(
                    &system,
                    &login,
                    name.as_deref().unwrap_or(&login),
                    Some(&password),
                    assignments,
                )
                .await?;
            println!("account {} created: {}", account.login, account.id);
            if shown {
                println!("password: {password}");
            }
            if administrator {
                let secret = app.enroll_totp(&system, &account.id).await?;
                println!(
                    "TOTP (required for administrators): {}",
                    onegrid_app::secrets::totp_uri(&secret, &account.login)
                );
            }
        }
        UserCommand::Unlock { login } => {
            let id = account_id(login.clone()).await?;
            app.unlock_account(&system, &id).await?;
            println!("{login} unlocked");
        }
        UserCommand::Totp { login } => {
            let id = account_id(login.clone()).await?;
            let secret = app.enroll_totp(&system, &id).await?;
            println!("{}", onegrid_app::secrets::totp_uri(&secret, &login));
        }
        UserCommand::List => {
            for account in app.store().accounts(10_000).await? {
                let roles: Vec<String> = account
                    .assignments
                    .iter()
                    .map(|a| format!("{}@{}", a.role, a.scope))
                    .collect();
                println!(
                    "{}\t{}\t{}",
                    account.login,
                    account.display_name,
                    roles.join(",")
                );
            }
        }
    }
    Ok(())
}

/// Checks a backup in a scratch directory, then moves it into place as the store.
async fn restore(config: &Config, file: &Path) -> anyhow::Result<std::process::ExitCode> {
    let onegrid_store::Location::Directory(dir) = config.location() else {
        bail!("restore puts a SQLite backup in place: give --data DIR");
    };
    let target = dir.join(onegrid_store::sqlite_file_name());
    if target.exists() {
        bail!(
            "{} holds a store already; restore only into an empty data directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let scratch = dir.join(".restore-check");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    std::fs::copy(file, scratch.join(onegrid_store::sqlite_file_name()))
        .with_context(|| format!("reading {}", file.display()))?;
    {
        let store = onegrid_store::open(&onegrid_store::Location::Directory(scratch.clone()))
            .await
            .context("the backup does not open as a onegrid store")?;
        let report = store.verify_records().await?;
        if let Some(problem) = report.first_problem {
            bail!("the backup's record is broken: {problem}");
        }
        eprintln!(
            "backup checked: {} records in {} chains intact",
            report.records, report.chains
        );
    }
    // The checked copy may have a write-ahead log still being closed; the backup itself is
    // one self-contained file, so it is the backup that goes into place.
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::copy(file, &target).with_context(|| format!("writing {}", target.display()))?;
    eprintln!("restored into {}", dir.display());
    Ok(std::process::ExitCode::SUCCESS)
}

/// Copies a SQLite store into an empty PostgreSQL database and prints what moved.
async fn copy(from: &Path, to: &str) -> anyhow::Result<std::process::ExitCode> {
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        bail!("--to: expected a postgres:// URL of the target database");
    }
    let report = onegrid_store::copy::copy_sqlite_to_postgres(from, to)
        .await
        .with_context(|| format!("copying {} to PostgreSQL", from.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    // Phone and ID numbers were sealed with the source's key: the PostgreSQL servers need it.
    let dir = if from.is_dir() {
        from.to_owned()
    } else {
        from.parent().map(Path::to_owned).unwrap_or_default()
    };
    let key_file = dir.join("secret.key");
    if key_file.is_file() {
        eprintln!(
            "the copied contacts are sealed with the key in {}: give every server of the new \
             database that key as ONEGRID_SECRET_KEY (or secret_key)",
            key_file.display()
        );
    }
    let rows: u64 = report.tables.iter().map(|t| t.target).sum();
    eprintln!(
        "copied {rows} rows in {} tables, {} records verified, in {:.1} s",
        report.tables.len(),
        report.records_verified,
        report.seconds
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// The overdue sweep, every `seconds`: a failed sweep is logged and tried again next time.
async fn sweep_forever(app: App, seconds: u64) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(seconds.max(1)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match app.sweep_overdue(chrono::Utc::now()).await {
            Ok(report) if report.marked > 0 => tracing::info!(?report, "overdue sweep"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "overdue sweep failed"),
        }
    }
}

/// How often an idle worker looks for due jobs.
const WORKER_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// The job worker: runs what is due, then waits a moment; a failed pass is logged and tried
/// again next time.
async fn work_forever(app: App, worker: String) {
    loop {
        match app.run_due_jobs(&worker, chrono::Utc::now(), 32).await {
            Ok(report) if report.claimed > 0 => tracing::info!(?report, "jobs run"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "job worker pass failed"),
        }
        tokio::time::sleep(WORKER_POLL).await;
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn locate(app: &App, args: LocateArgs) -> anyhow::Result<std::process::ExitCode> {
    if let Some(batch) = &args.batch {
        let summary = locate_batch(app, batch, args.out.as_deref())?;
        eprintln!(
            "located {} of {} points in {:.2} s",
            summary.found, summary.points, summary.seconds
        );
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let (Some(lon), Some(lat)) = (args.lon, args.lat) else {
        bail!("give LON LAT, or --batch FILE");
    };
    match app.locate(lon, lat) {
        Ok(located) => {
            println!("{}", serde_json::to_string_pretty(&located)?);
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(error) => {
            let body = serde_json::json!({"error": {"code": "not_found", "message": error.to_string(), "details": null}});
            println!("{body}");
            Ok(std::process::ExitCode::from(4))
        }
    }
}

pub struct BatchSummary {
    pub points: usize,
    pub found: usize,
    pub seconds: f64,
}

/// Answers a CSV of `lon,lat` rows (an optional header is skipped) with
/// `lon,lat,grid,village,township,county,city,province`.
fn locate_batch(app: &App, input: &Path, out: Option<&Path>) -> anyhow::Result<BatchSummary> {
    use std::io::Write;
    let started = Instant::now();
    let atlas = app.atlas();
    let reader =
        std::fs::File::open(input).with_context(|| format!("reading {}", input.display()))?;
    let mut csv_in = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, reader));
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut csv_out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, sink));
    csv_out.write_record([
        "lon", "lat", "grid", "village", "township", "county", "city", "province",
    ])?;
    let mut points = 0;
    let mut found = 0;
    let mut record = csv::StringRecord::new();
    let mut row: [String; 8] = Default::default();
    while csv_in.read_record(&mut record)? {
        let line = record.position().map_or(0, |p| p.line());
        let (Some(lon_text), Some(lat_text)) = (record.get(0), record.get(1)) else {
            bail!("{}, line {line}: expected lon,lat", input.display());
        };
        let (lon, lat) = match (lon_text.parse::<f64>(), lat_text.parse::<f64>()) {
            (Ok(lon), Ok(lat)) => (lon, lat),
            _ if line == 1 => continue, // a header row
            (Err(_), _) => bail!(
                "{}, line {line}, field lon: '{lon_text}' is not a number",
                input.display()
            ),
            (_, Err(_)) => bail!(
                "{}, line {line}, field lat: '{lat_text}' is not a number",
                input.display()
            ),
        };
        points += 1;
        for cell in row.iter_mut() {
            cell.clear();
        }
        row[0].push_str(lon_text);
        row[1].push_str(lat_text);
        if let Some((code, _)) = atlas.index().locate(lon, lat) {
            found += 1;
            for link in atlas.chain(code) {
                let column = match link.level {
                    Level::Grid => 2,
                    Level::Village => 3,
                    Level::Township => 4,
                    Level::County => 5,
                    Level::City => 6,
                    Level::Province => 7,
                };
                row[column].push_str(&link.code);
            }
        }
        csv_out.write_record(&row)?;
    }
    csv_out.flush()?;
    Ok(BatchSummary {
        points,
        found,
        seconds: started.elapsed().as_secs_f64(),
    })
}
