//! Cases: report, act, read, list; attachments; the taxonomy; the audit.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use onegrid_app::App;
use onegrid_app::cases::{DispatchSuggestion, ReportInput};
use onegrid_domain::calendar::{Calendar, describe_remaining};
use onegrid_domain::case::{ActInput, Case, CaseState, Channel, Reporter, legal_acts};
use onegrid_domain::masking::{mask_name, mask_phone, mask_text};
use onegrid_domain::taxonomy::{Tier, Urgency};
use onegrid_domain::{Level, RegionCode};
use onegrid_store::{CaseFilter, Record};
use serde_json::Value;

use crate::ApiError;
use crate::auth::{Auth, ClientAddress, MaybeAuth};
use crate::wire::{
    AreaLink, AttachmentRef, AuditReport, CaseList, CaseListQuery, CaseResponse, CategoryRef,
    CreateCaseRequest, ErrorBody, MaskedReporter, RecordEntry, StageClock, Suggestion,
};

/// The largest attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
const ATTACHMENT_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "application/pdf"];

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("the body is not valid: {error}")))
}

pub(crate) fn category_ref(app: &App, code: &str) -> Option<CategoryRef> {
    let rules = app.rules();
    let (major, minor) = rules.taxonomy.minor(code)?;
    Some(CategoryRef {
        code: minor.code.clone(),
        name: minor.name.clone(),
        major: major.name.clone(),
    })
}

fn stage_clock(
    calendar: &Calendar,
    case: &Case,
    yellow_share: f64,
    now: DateTime<Utc>,
) -> StageClock {
    let running = case.state.is_open() && case.state != CaseState::Suspended;
    let remaining_seconds = case
        .stage_deadline
        .filter(|_| running)
        .map(|deadline| calendar.remaining_working_seconds(now, deadline));
    StageClock {
        started_at: case.stage_started_at,
        deadline: case.stage_deadline,
        alert: serde_json::to_value(case.alert(calendar, now, yellow_share))
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "normal".to_owned()),
        remaining: remaining_seconds.map(describe_remaining),
        remaining_seconds,
    }
}

/// An act's fields with any phone or ID number inside their text masked (a note may carry one).
fn mask_json(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(mask_text(text)),
        Value::Array(items) => Value::Array(items.iter().map(mask_json).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, value)| (key.clone(), mask_json(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn record_entry(record: &Record) -> RecordEntry {
    let act_label =
        serde_json::from_value::<onegrid_domain::case::Act>(Value::String(record.act.clone()))
            .map_or_else(|_| record.act.clone(), |act| act.label().to_owned());
    RecordEntry {
        act: record.act.clone(),
        act_label,
        actor: record.actor.clone(),
        role: record.role.clone(),
        from_state: record.from_state.clone(),
        to_state: record.to_state.clone(),
        at: record.at.clone(),
        note: mask_text(&record.note),
        attachments: record.attachments.clone(),
        details: mask_json(&record.details),
        seq: record.seq,
        hash: record.hash.clone(),
    }
}

/// The one way a case is shown: personal data masked, names resolved, the clock computed.
pub fn case_response(
    app: &App,
    case: &Case,
    records: &[Record],
    suggestions: &[DispatchSuggestion],
) -> CaseResponse {
    let atlas = app.atlas();
    let rules = app.rules();
    let now = Utc::now();
    let chain = case
        .chain
        .iter()
        .filter_map(|code| atlas.region(code))
        .map(AreaLink::from)
        .collect();
    let suggested_categories = if case.category.is_none() {
        rules
            .taxonomy
            .suggest(&case.description)
            .iter()
            .filter_map(|s| category_ref(app, &s.code))
            .collect()
    } else {
        Vec::new()
    };
    CaseResponse {
        id: case.id.clone(),
        number: case.number.clone(),
        state: case.state.as_str().to_owned(),
        state_label: case.state.label().to_owned(),
        version: case.version,
        grid: case.grid.clone(),
        chain,
        lon: case.lon,
        lat: case.lat,
        address: case.address.as_deref().map(mask_text),
        description: mask_text(&case.description),
        channel: case.channel.as_str().to_owned(),
        category: case.category.as_deref().and_then(|c| category_ref(app, c)),
        suggested_categories,
        urgency: case.urgency.as_str().to_owned(),
        reporter: {
            let contact = app.open_contact(case);
            MaskedReporter {
                name: contact.name.as_deref().map(mask_name),
                phone: contact.phone.as_deref().map(mask_phone),
            }
        },
        attachments: case.attachments.clone(),
        tier: case.tier.as_str().to_owned(),
        unit: case.unit.clone(),
        overdue: case.overdue,
        stage: stage_clock(&rules.calendar, case, rules.limits.yellow_share, now),
        urge_due: case.urge_due,
        satisfaction: case
            .satisfaction
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| v.as_str().map(str::to_owned)),
        counts: serde_json::to_value(case.counts).unwrap_or(Value::Null),
        legal_acts: legal_acts(case)
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        suggestions: suggestions
            .iter()
            .map(|s| Suggestion {
                unit: s.unit.clone(),
                unit_name: s.unit_name.clone(),
                tier: s.tier.as_str().to_owned(),
                role: serde_json::to_value(s.role)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            })
            .collect(),
        record: records.iter().map(record_entry).collect(),
        created_at: case.created_at,
        updated_at: case.updated_at,
        tracking_code: None,
    }
}

/// Reports a case from any channel. With `Idempotency-Key`, a retry returns the first answer.
#[utoipa::path(
    post, path = "/api/v1/cases", request_body = CreateCaseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe: the same key and body return the first answer for 30 days")),
    responses(
        (status = 201, body = CaseResponse),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody,
         description = "invalid fields, a place outside the city, or a reused key with another body"),
    )
)]
pub async fn create_case(
    State(app): State<App>,
    MaybeAuth(principal): MaybeAuth,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateCaseRequest = parse_json(&body)?;
    let channel: Channel = request
        .channel
        .parse()
        .map_err(|e: String| ApiError::unprocessable(format!("channel: {e}")))?;
    let urgency = match request.urgency.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<Urgency>()
                .map_err(|e| ApiError::unprocessable(format!("urgency: {e}")))?,
        ),
    };
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            let key = value
                .to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    ApiError::bad_request("Idempotency-Key: 1–200 visible ASCII characters")
                })?;
            Some(key.to_owned())
        }
    };
    let input = ReportInput {
        description: request.description,
        lon: request.lon,
        lat: request.lat,
        grid: request.grid,
        address: request.address,
        channel,
        category: request.category.filter(|c| !c.is_empty()),
        urgency,
        reporter: request
            .reporter
            .map(|r| Reporter {
                name: r.name,
                phone: r.phone,
                id_number: r.id_number,
                ..Reporter::default()
            })
            .unwrap_or_default(),
        attachments: request.attachments,
    };
    let reported = app
        .report_case_as(principal.as_ref(), input, key.as_deref(), &address)
        .await?;
    let (case, replayed) = (reported.case, reported.replayed);
    let mut body = case_response(&app, &case, &[], &[]);
    body.tracking_code = reported.tracking_code;
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/cases/{}", case.id))
            .unwrap_or(HeaderValue::from_static("/api/v1/cases")),
    );
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Takes one act on a case: `{"act": NAME, "version": N, …the act's fields}`.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/acts",
    params(("id" = String, Path, description = "case id")),
    request_body(content = Value, description = "{\"act\": NAME, \"version\": N, …}: accept reject register dispatch sign return handle report_back verify_pass verify_fail close follow_up reopen suspend resume extend void escalate urge settle_on_spot"),
    responses(
        (status = 200, body = CaseResponse),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the act is not legal now, or the version is stale; the message names the legal acts"),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn act(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<CaseResponse>, ApiError> {
    let mut value: Value = parse_json(&body)?;
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let version = object
        .remove("version")
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| ApiError::bad_request("version: the case version you saw is required"))?;
    if object.get("act").and_then(Value::as_str) == Some("mark_overdue") {
        return Err(ApiError::unprocessable("act: mark_overdue is the system's"));
    }
    let input: ActInput = serde_json::from_value(value)
        .map_err(|error| ApiError::unprocessable(format!("act: {error}")))?;
    let case = app.act_on_case_as(&principal, &id, version, input).await?;
    Ok(Json(case_response(&app, &case, &[], &[])))
}

/// The case with its whole record, the legal acts and dispatch suggestions.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}",
    params(("id" = String, Path, description = "case id or number")),
    responses((status = 200, body = CaseResponse), (status = 404, body = ErrorBody))
)]
pub async fn get_case(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<Json<CaseResponse>, ApiError> {
    let view = app.case_view_as(&principal, &id).await?;
    Ok(Json(case_response(
        &app,
        &view.case,
        &view.records,
        &view.suggestions,
    )))
}

pub(crate) fn parse_time(
    text: &str,
    end_of_day: bool,
    field: &str,
) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!(
            "{field}: '{text}' is neither YYYY-MM-DD nor RFC 3339"
        ))
    })?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    let shanghai =
        chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| ApiError::bad_request("timezone"))?;
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .and_then(|t| shanghai.from_local_datetime(&t).single())
        .ok_or_else(|| ApiError::bad_request(format!("{field}: '{text}'")))?;
    Ok(midnight.with_timezone(&Utc))
}

/// The case list, newest first, with filters and cursor pagination.
#[utoipa::path(
    get, path = "/api/v1/cases", params(CaseListQuery),
    responses((status = 200, body = CaseList), (status = 400, body = ErrorBody))
)]
pub async fn list_cases(
    State(app): State<App>,
    Auth(principal): Auth,
    Query(query): Query<CaseListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    let filter = case_filter(&query)?;
    let page = app
        .list_cases_as(
            &principal,
            &filter,
            query.cursor.as_deref(),
            query.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(CaseList {
        cases: page
            .cases
            .iter()
            .map(|case| case_response(&app, case, &[], &[]))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The case list as CSV (masked), for the roles that may export; the export is recorded.
#[utoipa::path(
    get, path = "/api/v1/cases/export.csv", params(CaseListQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM"), (status = 403, body = ErrorBody))
)]
pub async fn export_cases(
    State(app): State<App>,
    Auth(principal): Auth,
    Query(query): Query<CaseListQuery>,
) -> Result<Response, ApiError> {
    let filter = case_filter(&query)?;
    let text = app.export_cases_as(&principal, &filter).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"cases.csv\"".to_owned(),
            ),
        ],
        format!("\u{feff}{text}"),
    )
        .into_response())
}

fn case_filter(query: &CaseListQuery) -> Result<CaseFilter, ApiError> {
    let bad =
        |field: &str, e: &dyn std::fmt::Display| ApiError::bad_request(format!("{field}: {e}"));
    let region = match (query.region.as_deref(), query.grid.as_deref()) {
        (_, Some(grid)) => {
            Some(RegionCode::parse_at(Level::Grid, grid).map_err(|e| bad("grid", &e))?)
        }
        (Some(region), None) => Some(RegionCode::parse(region).map_err(|e| bad("region", &e))?),
        (None, None) => None,
    };
    let mut states = Vec::new();
    for text in query
        .state
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.is_empty())
    {
        states.push(text.parse::<CaseState>().map_err(|e| bad("state", &e))?);
    }
    let tier = match query.tier.as_deref() {
        Some(text) => Some(
            serde_json::from_value::<Tier>(Value::String(text.to_owned()))
                .map_err(|e| bad("tier", &e))?,
        ),
        None => None,
    };
    let channel = match query.channel.as_deref() {
        Some(text) => Some(text.parse::<Channel>().map_err(|e| bad("channel", &e))?),
        None => None,
    };
    let filter = CaseFilter {
        region,
        states,
        category: query.category.clone(),
        tier,
        channel,
        unit: query.unit.clone(),
        overdue: query.overdue,
        created_from: query
            .from
            .as_deref()
            .map(|t| parse_time(t, false, "from"))
            .transpose()?,
        created_to: query
            .to
            .as_deref()
            .map(|t| parse_time(t, true, "to"))
            .transpose()?,
        scope: None,
    };
    Ok(filter)
}

/// Stores a photo or document by its content hash.
#[utoipa::path(
    post, path = "/api/v1/attachments",
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "the raw bytes; image/jpeg, image/png, image/webp or application/pdf; at most 10 MiB"),
    responses((status = 201, body = AttachmentRef), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody))
)]
pub async fn upload_attachment(
    State(app): State<App>,
    MaybeAuth(principal): MaybeAuth,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<AttachmentRef>), ApiError> {
    // The public may send photos with their reports, as often as they may report.
    if principal.is_none()
        && let Err(wait) = app.limiter().check(
            &format!("public-upload:{address}"),
            app.access().public_report_rate,
        )
    {
        return Err(onegrid_app::AppError::RateLimited {
            retry_after_seconds: wait,
        }
        .into());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if !ATTACHMENT_TYPES.contains(&content_type.as_str()) {
        return Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: format!(
                "Content-Type '{content_type}' is not accepted; use {}",
                ATTACHMENT_TYPES.join(", ")
            ),
            details: Value::Null,
            retry_after: None,
        });
    }
    if body.is_empty() {
        return Err(ApiError::bad_request("the attachment is empty"));
    }
    let size = body.len();
    let hash = app
        .store()
        .put_attachment(&content_type, body.to_vec())
        .await
        .map_err(onegrid_app::AppError::from)?;
    Ok((StatusCode::CREATED, Json(AttachmentRef { hash, size })))
}

/// An attachment of a case the caller may read.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}/attachments/{hash}",
    params(("id" = String, Path, description = "case id"), ("hash" = String, Path, description = "SHA-256 of the content")),
    responses((status = 200, description = "the bytes"), (status = 404, body = ErrorBody))
)]
pub async fn get_attachment(
    State(app): State<App>,
    Auth(principal): Auth,
    Path((id, hash)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let attachment = app.case_attachment_as(&principal, &id, &hash).await?;
    Ok((
        [
            (header::CONTENT_TYPE, attachment.content_type),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".to_owned(),
            ),
        ],
        attachment.bytes,
    )
        .into_response())
}

/// The taxonomy (大类/小类, time limits, responsibility matrix) in force.
#[utoipa::path(get, path = "/api/v1/taxonomy", responses((status = 200, description = "the taxonomy document")))]
pub async fn taxonomy(State(app): State<App>) -> Json<Value> {
    Json(serde_json::to_value(&app.rules().taxonomy).unwrap_or(Value::Null))
}

/// Verifies the whole full-process record.
#[utoipa::path(get, path = "/api/v1/audit/verify", responses((status = 200, body = AuditReport)))]
pub async fn verify_audit(
    State(app): State<App>,
    Auth(principal): Auth,
) -> Result<Json<AuditReport>, ApiError> {
    if !principal.holds(onegrid_domain::access::Capability::ReadAudit) {
        return Err(ApiError::forbidden(
            "only the audit administrator verifies the record",
        ));
    }
    let report = app.verify_audit().await?;
    Ok(Json(AuditReport {
        intact: report.is_intact(),
        records: report.records,
        chains: report.chains,
        checkpoints: report.checkpoints,
        first_problem: report.first_problem,
    }))
}
