//! The command-centre screen (一屏观全市): the HTML page at `/screen/{code}` and the JSON it
//! reads beside the figures — the trend, the open overdue cases — and the server-sent events
//! that tell an open screen its region's figures changed.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use futures_util::Stream;
use onegrid_app::figures::Period;
use onegrid_app::screen::{Trend, TrendStep};
use onegrid_app::{App, AppError};
use onegrid_domain::RegionCode;
use onegrid_domain::masking::mask_text;

use crate::ApiError;
use crate::assets;
use crate::auth::Auth;
use crate::wire::{
    AreaLink, ChangeEvent, ErrorBody, OverdueCaseItem, OverdueListResponse, OverdueQuery,
    TrendPoint, TrendQuery, TrendResponse,
};
use onegrid_domain::access::Capability;

/// How often an open event stream asks the store whether its region changed. The question
/// reads one row per county, so many screens may ask it.
const CHANGE_POLL: Duration = Duration::from_secs(2);

/// The screen's page, its assets, and the JSON only the screen needs.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/screen", get(screen_home))
        .route("/screen/{code}", get(screen_page))
        .route("/api/v1/regions/{code}/trend", get(trend))
        .route("/api/v1/regions/{code}/overdue", get(overdue))
        .route("/api/v1/regions/{code}/events", get(region_events))
        .merge(assets::routes())
}

fn parse_region(code: &str) -> Result<RegionCode, ApiError> {
    RegionCode::parse(code).map_err(|error| ApiError::bad_request(error.to_string()))
}

fn parse_date(text: &str, field: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{field}: '{text}' is not YYYY-MM-DD")))
}

/// `/screen` opens the city's screen.
async fn screen_home(State(app): State<App>) -> Response {
    match app.screen_home() {
        Ok(code) => Redirect::to(&format!("/screen/{code}")).into_response(),
        Err(_) => assets::not_found_page(
            "尚无行政区划数据：请先导入区划（onegrid import divisions）或运行 onegrid demo。",
        ),
    }
}

/// The screen of one region; the page reads its data from the JSON API.
async fn screen_page(State(app): State<App>, Path(code): Path<String>) -> Response {
    let region = RegionCode::parse(&code)
        .map_err(|_| AppError::not_found(format!("region {code}")))
        .and_then(|code| app.screen_region(&code));
    match region {
        Ok(region) => assets::screen_page(&region.code, &region.name),
        Err(_) => assets::not_found_page(&format!("未找到区域 {code}。")),
    }
}

/// A region's cases reported in each day, week or month of a period (the screen's trend).
#[utoipa::path(
    get, path = "/api/v1/regions/{code}/trend", params(("code" = String, Path), TrendQuery),
    responses((status = 200, body = TrendResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn trend(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    Query(query): Query<TrendQuery>,
) -> Result<Json<TrendResponse>, ApiError> {
    let code = parse_region(&code)?;
    app.authorize_region(&principal, Capability::ReadReports, &code)?;
    let period = Period::new(
        parse_date(&query.from, "from")?,
        parse_date(&query.to, "to")?,
    )?;
    let step = match &query.step {
        Some(step) => TrendStep::parse(step)?,
        None => TrendStep::for_period(period),
    };
    let Trend {
        region,
        period,
        step,
        points,
    } = app.trend(&code, period, step).await?;
    Ok(Json(TrendResponse {
        region: AreaLink::from(&region),
        from: period.from,
        to: period.to,
        step: match step {
            TrendStep::Day => "day",
            TrendStep::Week => "week",
            TrendStep::Month => "month",
        }
        .to_owned(),
        points: points
            .into_iter()
            .map(|point| TrendPoint {
                label: point.label,
                start: point.start,
                reported: point.reported,
                accepted: point.accepted,
                handled: point.handled,
                closed: point.closed,
                overdue: point.overdue,
            })
            .collect(),
    }))
}

/// The open cases of a region that ran past a deadline (超期未结), most overdue first.
#[utoipa::path(
    get, path = "/api/v1/regions/{code}/overdue", params(("code" = String, Path), OverdueQuery),
    responses((status = 200, body = OverdueListResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn overdue(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    Query(query): Query<OverdueQuery>,
) -> Result<Json<OverdueListResponse>, ApiError> {
    let code = parse_region(&code)?;
    let list = app
        .overdue_cases_as(&principal, &code, query.limit.unwrap_or(50), Utc::now())
        .await?;
    Ok(Json(OverdueListResponse {
        more: list.more,
        cases: list
            .cases
            .into_iter()
            .map(|item| {
                let case = item.case;
                OverdueCaseItem {
                    id: case.id,
                    number: case.number,
                    state: case.state.as_str().to_owned(),
                    state_label: case.state.label().to_owned(),
                    category: case.category,
                    category_name: item.category_name,
                    description: mask_text(&case.description),
                    chain: item.chain.iter().map(AreaLink::from).collect(),
                    tier: case.tier.as_str().to_owned(),
                    unit: case.unit,
                    urgency: case.urgency.as_str().to_owned(),
                    reported_at: case.created_at,
                    stage_deadline: case.stage_deadline,
                    overdue_seconds: item.overdue_seconds,
                    overdue_text: item.overdue_text,
                }
            })
            .collect(),
    }))
}

/// Server-sent events for one region: `ready` at once, then `change` whenever a case in the
/// region's county (counties, for a city) changed, by any process writing the store; each
/// event's data is a [`ChangeEvent`]. A comment every 15 s keeps proxies from closing it.
#[utoipa::path(
    get, path = "/api/v1/regions/{code}/events", params(("code" = String, Path)),
    responses(
        (status = 200, description = "text/event-stream of `ready` and `change` events, data `{\"mark\": N}`", content_type = "text/event-stream"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)
    )
)]
pub async fn region_events(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(code): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, axum::Error>>>, ApiError> {
    let code = parse_region(&code)?;
    app.screen_region(&code)?;
    app.authorize_region(&principal, Capability::ReadReports, &code)?;
    let first = app.change_mark(&code).await?;
    let stream = futures_util::stream::unfold(
        (app, code, first, true),
        |(app, code, last, first_event)| async move {
            if first_event {
                return Some((change_event("ready", last), (app, code, last, false)));
            }
            loop {
                tokio::time::sleep(CHANGE_POLL).await;
                match app.change_mark(&code).await {
                    Ok(mark) if mark != last => {
                        return Some((change_event("change", mark), (app, code, mark, false)));
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, region = %code, "reading the change mark");
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn change_event(name: &str, mark: i64) -> Result<Event, axum::Error> {
    Event::default()
        .event(name)
        .retry(Duration::from_secs(3))
        .json_data(ChangeEvent { mark })
}
