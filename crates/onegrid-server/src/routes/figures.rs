//! Figures, rankings and reports of a region (一屏观全市), read from the rollups.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use onegrid_app::App;
use onegrid_app::figures::{Period, RankBy};
use onegrid_domain::RegionCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::ApiError;
use crate::auth::Auth;
use crate::wire::ErrorBody;
use onegrid_domain::access::Capability;

/// The period and options of a figures, ranking or report request.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// First report date (YYYY-MM-DD, Asia/Shanghai), included.
    pub from: String,
    /// Last report date, included.
    pub to: String,
    /// Rankings: the figure to rank by (`handle_rate`, `close_rate`, `accepted`, …); without
    /// it, the composite score.
    pub by: Option<String>,
    /// Rankings: composite weights, `handle_rate:0.4,close_rate:0.3,satisfaction_rate:0.3`.
    pub weights: Option<String>,
    /// Reports: `json` (default), `text`, `csv` or `xlsx`.
    pub format: Option<String>,
}

fn period(query: &PeriodQuery) -> Result<Period, ApiError> {
    let date = |text: &str, field: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request(format!("{field}: '{text}' is not YYYY-MM-DD")))
    };
    Ok(Period::new(
        date(&query.from, "from")?,
        date(&query.to, "to")?,
    )?)
}

fn region(code: &str) -> Result<RegionCode, ApiError> {
    RegionCode::parse(code).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A region's (or grid's) figures with its channel and category mix and its children.
#[utoipa::path(
    get, path = "/api/v1/regions/{code}/figures", params(("code" = String, Path), PeriodQuery),
    responses((status = 200, description = "figures with their numerators and denominators"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn region_figures(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let region = region(&code)?;
    app.authorize_region(&principal, Capability::ReadReports, &region)?;
    let figures = app.region_figures(&region, period(&query)?).await?;
    Ok(Json(serde_json::to_value(figures).unwrap_or(Value::Null)))
}

/// The children of a region ranked by one figure or by a weighted composite ("全省第二").
#[utoipa::path(
    get, path = "/api/v1/regions/{code}/ranking", params(("code" = String, Path), PeriodQuery),
    responses((status = 200, description = "the ranking"), (status = 400, body = ErrorBody))
)]
pub async fn ranking(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    app.authorize_region(&principal, Capability::ReadReports, &region(&code)?)?;
    let by = match (&query.by, &query.weights) {
        (Some(figure), _) => RankBy::Figure(figure.clone()),
        (None, Some(weights)) => {
            let mut parsed = Vec::new();
            for part in weights.split(',').filter(|p| !p.is_empty()) {
                let (name, weight) = part.split_once(':').ok_or_else(|| {
                    ApiError::bad_request(format!("weights: '{part}' is not name:weight"))
                })?;
                let weight: f64 = weight.parse().map_err(|_| {
                    ApiError::bad_request(format!("weights: '{weight}' is not a number"))
                })?;
                parsed.push((name.to_owned(), weight));
            }
            RankBy::Composite(parsed)
        }
        (None, None) => RankBy::Composite(onegrid_app::reports::default_weights()),
    };
    let ranked = app
        .rank_children(&region(&code)?, period(&query)?, &by)
        .await?;
    Ok(Json(serde_json::to_value(ranked).unwrap_or(Value::Null)))
}

/// The periodic report of a region: prose, figures, categories, trend, ranking.
#[utoipa::path(
    get, path = "/api/v1/reports/{code}", params(("code" = String, Path), PeriodQuery),
    responses((status = 200, description = "JSON, text, CSV or an XLSX workbook"), (status = 400, body = ErrorBody))
)]
pub async fn report(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let region = region(&code)?;
    let format = query.format.as_deref().unwrap_or("json");
    // Reading a report on screen is a read; taking it away as a file is an export.
    let exporting = matches!(format, "csv" | "xlsx");
    let capability = if exporting {
        Capability::ExportReports
    } else {
        Capability::ReadReports
    };
    app.authorize_region(&principal, capability, &region)?;
    let report = app.report(&region, period(&query)?).await?;
    if exporting {
        app.record_export(
            &principal,
            &format!("{} 报表 {}–{} ({format})", region, query.from, query.to),
        )
        .await?;
    }
    Ok(match format {
        "json" => Json(serde_json::to_value(&report).unwrap_or(Value::Null)).into_response(),
        "text" => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            report.to_text(),
        )
            .into_response(),
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            // A byte-order mark so that spreadsheet programs read the Chinese right.
            format!("\u{feff}{}", report.to_csv()),
        )
            .into_response(),
        "xlsx" => {
            let bytes = report.to_xlsx().map_err(|error| {
                tracing::error!(%error, "writing a report workbook");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "内部错误，请稍后再试 (internal error)".to_owned(),
                    details: Value::Null,
                    retry_after: None,
                }
            })?;
            let filename = format!(
                "report-{}-{}-{}.xlsx",
                report.region.code, report.period.from, report.period.to
            );
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_owned(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{filename}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "format: '{other}' is not json, text, csv or xlsx"
            )));
        }
    })
}
