//! Background jobs shared by several processes on one PostgreSQL: two applications, each with
//! its own connection pool (as two `onegrid serve` processes have), take a workload and run
//! the jobs it causes side by side; every job runs exactly once, counted in `job_runs`, and
//! its effect (a notice, an overdue mark) happens once. Then two real `onegrid serve`
//! processes deliver the notices of cases dispatched through their HTTP APIs.
//!
//! Needs `ONEGRID_TEST_DATABASE_URL` (see `scripts/test-postgres.sh`).

mod city;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use city::support::PgDatabase;
use onegrid_app::App;
use onegrid_domain::case::Channel;
use onegrid_store::Location;
use serde_json::json;
use sqlx::Row;

/// Runs batches of due jobs (as of `now()`) until `stop` is set and nothing is due.
async fn work(app: App, name: String, now: fn() -> DateTime<Utc>, stop: Arc<AtomicBool>) -> usize {
    let mut claimed = 0;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        let pass = app.run_jobs_once(&name, now(), 3).await.unwrap();
        claimed += pass.claimed;
        if pass.claimed == 0 {
            if stopping {
                return claimed;
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
    }
}

fn real_now() -> DateTime<Utc> {
    Utc::now()
}

/// A month on: every stage's deadline of today's cases has passed.
fn month_on() -> DateTime<Utc> {
    Utc::now() + Duration::days(30)
}

/// Four workers, two in each application, until the queue as of `now()` is empty.
async fn run_workers(
    apps: [&App; 2],
    now: fn() -> DateTime<Utc>,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<usize>> {
    let mut workers = Vec::new();
    for (app, prefix) in apps.into_iter().zip(["a", "b"]) {
        for n in 1..=2 {
            workers.push(tokio::spawn(work(
                app.clone(),
                format!("{prefix}{n}"),
                now,
                Arc::clone(&stop),
            )));
        }
    }
    workers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applications_on_one_postgres_run_every_job_exactly_once() {
    let Some(database) = PgDatabase::create().await else {
        return;
    };
    let location = Location::Postgres(database.url.clone());
    let a = city::app_at(&location).await;
    city::seed_regions(&a).await;
    let b = city::app_at(&location).await;

    // The workload, through both applications, while both run their workers.
    let stop = Arc::new(AtomicBool::new(false));
    let workers = run_workers([&a, &b], real_now, Arc::clone(&stop)).await;
    let cases: i64 = 40;
    let mut dispatched: i64 = 0;
    for i in 0..cases {
        let app = if i % 2 == 0 { &a } else { &b };
        let case = city::report(
            app,
            Channel::Resident,
            &format!("占道经营{i}"),
            112.75,
            37.65,
        )
        .await;
        if i % 4 < 2 {
            city::acts(
                app,
                case,
                &[
                    json!({"act": "accept"}),
                    json!({"act": "register", "category": "0901"}),
                    json!({"act": "dispatch", "unit": "140702001:gov"}),
                ],
            )
            .await;
            dispatched += 1;
        }
    }
    stop.store(true, Ordering::SeqCst);
    let mut first_pass = 0;
    for worker in workers {
        first_pass += worker.await.unwrap();
    }
    assert_eq!(
        first_pass as i64, dispatched,
        "today only the notices are due"
    );

    // A month on, every deadline check is due: both applications run them at once.
    let stop = Arc::new(AtomicBool::new(true));
    let workers = run_workers([&a, &b], month_on, stop).await;
    for worker in workers {
        worker.await.unwrap();
    }

    let mut conn = database.connect().await;
    let scalar = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let due_not_done = scalar(
        "SELECT count(*) FROM jobs WHERE state <> 'done' AND run_at <= now() + interval '29 days'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(due_not_done, 0, "every due job is done");
    let done = scalar("SELECT count(*) FROM jobs WHERE state = 'done'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    // At least each case's first check and each dispatched case's notice. (Acts whose new
    // stage ends at the same moment — e.g. all on one Sunday: 2 working hours end on Monday
    // at 11:00 — enqueue no second check: the one there looks at the case as it then stands.)
    assert!(done >= cases + dispatched, "{done} jobs done");
    let runs = sqlx::query("SELECT job_id, count(*) AS runs FROM job_runs GROUP BY job_id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(runs.len() as i64, done, "every done job ran");
    for row in &runs {
        let (job, count): (i64, i64) = (row.get("job_id"), row.get("runs"));
        assert_eq!(count, 1, "job {job} ran {count} times");
    }
    let by_application = sqlx::query(
        "SELECT left(worker, 1) AS app, count(*) AS runs FROM job_runs GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let shares: Vec<(String, i64)> = by_application
        .iter()
        .map(|row| (row.get("app"), row.get("runs")))
        .collect();
    assert_eq!(shares.len(), 2, "both applications ran jobs: {shares:?}");

    // The effects, once each.
    let notices = sqlx::query("SELECT case_id, count(*) AS n FROM notices GROUP BY case_id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(notices.len() as i64, dispatched);
    assert!(notices.iter().all(|row| row.get::<i64, _>("n") == 1));
    let marks = sqlx::query(
        "SELECT case_id, count(*) AS n FROM records WHERE act = 'mark_overdue' GROUP BY case_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(marks.len() as i64, cases, "every case was marked");
    for row in &marks {
        let n: i64 = row.get("n");
        assert_eq!(
            n,
            1,
            "case {} marked {n} times",
            row.get::<String, _>("case_id")
        );
    }
    let escalations = scalar("SELECT count(*) FROM records WHERE act = 'escalate'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        escalations,
        cases - dispatched,
        "undispatched cases went up a tier"
    );
    let report = a.verify_audit().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
}

/// `onegrid serve` on PostgreSQL, started with `--database`; its address.
fn serve(url: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = city::onegrid()
        .args(["--database", url, "serve", "--addr", "127.0.0.1:0"])
        .env("ONEGRID_SWEEP_SECONDS", "3600")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let banner = std::io::BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .find(|line| line.contains("serving on http://"))
        .expect("the server prints its address");
    let address = banner.rsplit("http://").next().unwrap().trim().to_owned();
    (child, address)
}

/// One JSON request over a plain HTTP/1.1 connection, with a bearer token.
fn call(address: &str, method: &str, path: &str, token: &str, body: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nAuthorization: \
         Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (status, rest) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        status.starts_with("HTTP/1.1 20"),
        "{method} {path}: {status}\n{rest}"
    );
    serde_json::from_str(rest).unwrap()
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_deliver_each_notice_once() {
    let Some(database) = PgDatabase::create().await else {
        return;
    };
    city::seed_regions(&city::app_at(&Location::Postgres(database.url.clone())).await).await;
    let token = city::make_token(
        &["--database", &database.url],
        "jobs-centre",
        "centre_intake@140700,centre_dispatcher@140700",
    );
    let (first, first_address) = serve(&database.url);
    let _first = Killed(first);
    let (second, second_address) = serve(&database.url);
    let _second = Killed(second);
    let cases = 12;
    for i in 0..cases {
        let address = if i % 2 == 0 {
            &first_address
        } else {
            &second_address
        };
        let body = json!({"description": format!("违章搭建{i}"), "lon": 112.75, "lat": 37.65, "channel": "resident"});
        let mut case = call(address, "POST", "/api/v1/cases", &token, &body.to_string());
        for act in [
            json!({"act": "accept"}),
            json!({"act": "register", "category": "0901"}),
            json!({"act": "dispatch", "unit": "140702001:gov"}),
        ] {
            let mut act = act;
            act["version"] = case["version"].clone();
            let path = format!("/api/v1/cases/{}/acts", case["id"].as_str().unwrap());
            case = call(address, "POST", &path, &token, &act.to_string());
        }
    }
    let mut conn = database.connect().await;
    let deadline = std::time::Instant::now() + StdDuration::from_secs(30);
    loop {
        let delivered: i64 = sqlx::query_scalar("SELECT count(*) FROM notices")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if delivered == cases {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{delivered} of {cases} notices after 30 s"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    // A moment more: nothing runs twice.
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT job_id FROM job_runs GROUP BY job_id HAVING count(*) > 1) t",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(twice, 0);
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM job_runs")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(runs, cases, "only the notices were due, each ran once");
}

/// `onegrid worker --once` on the SQLite store: the notice of a dispatched case is delivered
/// once; a second pass finds nothing due.
#[tokio::test]
async fn the_worker_command_runs_due_jobs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let app = city::sqlite_city(&data).await;
        let case = city::report(&app, Channel::Resident, "井盖缺失", 112.75, 37.65).await;
        city::acts(
            &app,
            case,
            &[
                json!({"act": "accept"}),
                json!({"act": "register", "category": "0901"}),
                json!({"act": "dispatch", "unit": "140702001:gov"}),
            ],
        )
        .await;
    }
    let once = || {
        let out = city::onegrid()
            .arg("--data")
            .arg(&data)
            .args(["worker", "--once"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = once();
    assert_eq!(first["notices"], 1, "{first}");
    assert_eq!(first["done"], first["claimed"], "{first}");
    let second = once();
    assert_eq!(second["claimed"], 0, "{second}");
    let db = data.join(onegrid_store::sqlite_file_name());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        db.display()
    ))
    .await
    .unwrap();
    let notices: Vec<(String, String)> = sqlx::query_as("SELECT unit, message FROM notices")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].0, "140702001:gov");
    assert!(notices[0].1.contains("已派遣至本单位"), "{}", notices[0].1);
}
