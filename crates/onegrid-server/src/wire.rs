//! The wire types of the JSON API: what clients send and receive. They are not storage rows
//! and not domain types; every field's doc comment feeds the OpenAPI document.

use chrono::{DateTime, Utc};
use onegrid_app::ChainLink;
use onegrid_domain::Region;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the service answers.
    pub status: &'static str,
    /// The storage engine in use: `sqlite` or `postgres`.
    pub engine: &'static str,
    /// Regions known (current and retired).
    pub regions: usize,
    /// Polygons in the point → area index.
    pub indexed_areas: usize,
}

/// One area of a chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaLink {
    /// The area's code: 6 digits to county level, 9 for a township/street, 12 for a
    /// village/community, 15 for a grid.
    pub code: String,
    /// Its name, e.g. `榆次区`.
    pub name: String,
    /// `province`, `city`, `county`, `township`, `village` or `grid`.
    pub level: String,
    /// The level's Chinese name, e.g. `乡镇（街道）`.
    pub level_label: String,
}

impl From<&ChainLink> for AreaLink {
    fn from(link: &ChainLink) -> AreaLink {
        AreaLink {
            code: link.code.clone(),
            name: link.name.clone(),
            level: link.level.as_str().to_owned(),
            level_label: link.level_label.to_owned(),
        }
    }
}

impl From<&Region> for AreaLink {
    fn from(region: &Region) -> AreaLink {
        AreaLink {
            code: region.code.to_string(),
            name: region.name.clone(),
            level: region.level().as_str().to_owned(),
            level_label: region.level().label().to_owned(),
        }
    }
}

/// The query of `GET /api/v1/locate`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LocateQuery {
    /// Longitude, WGS-84 (CGCS2000), degrees east.
    pub lon: f64,
    /// Latitude, WGS-84 (CGCS2000), degrees north.
    pub lat: f64,
}

/// Where a point lies.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocateResponse {
    /// The longitude asked about.
    pub lon: f64,
    /// The latitude asked about.
    pub lat: f64,
    /// The grid that contains the point; `null` where no grid covers it.
    pub grid: Option<AreaLink>,
    /// The deepest area that contains the point: the grid when there is one.
    pub area: AreaLink,
    /// The whole chain from that area up to the province.
    pub chain: Vec<AreaLink>,
}

/// A region with its place in the chain, its children and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionResponse {
    /// The region's code.
    pub code: String,
    /// Its current name (or its last name, when retired).
    pub name: String,
    /// Its level.
    pub level: String,
    /// The level's Chinese name.
    pub level_label: String,
    /// The parent's code; `null` for a province.
    pub parent: Option<String>,
    /// The chain from this region up to the province.
    pub chain: Vec<AreaLink>,
    /// Since when this version of the region is valid (UTC).
    pub valid_from: DateTime<Utc>,
    /// When the code stopped being used (UTC); `null` while current.
    pub valid_to: Option<DateTime<Utc>>,
    /// The code that replaced this one, when it was retired and a successor is known
    /// (太谷县 140726 → 太谷区 140703).
    pub successor: Option<String>,
    /// Earlier versions of this region (a name or parent that changed).
    pub history: Vec<RegionVersion>,
    /// Whether a polygon is stored for it.
    pub has_polygon: bool,
    /// Its area in square metres, when a polygon is stored.
    pub area_m2: Option<f64>,
    /// The current children, by code.
    pub children: Vec<AreaLink>,
}

/// An earlier version of a region.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionVersion {
    /// The name it had then.
    pub name: String,
    /// The parent it had then.
    pub parent: Option<String>,
    /// Valid from (UTC).
    pub valid_from: DateTime<Utc>,
    /// Valid until (UTC).
    pub valid_to: Option<DateTime<Utc>>,
}

/// The JSON error shape every failing request answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code: `bad_request`, `invalid`, `not_found`, `conflict`,
    /// `internal`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Every problem found, where there are several (location and message each).
    pub details: serde_json::Value,
}

/// A report, as `POST /api/v1/cases` takes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCaseRequest {
    /// What is the matter, in Chinese text.
    pub description: String,
    /// Longitude (WGS-84); with `lat`, the place. Give `grid` instead where there is no point.
    pub lon: Option<f64>,
    /// Latitude (WGS-84).
    pub lat: Option<f64>,
    /// A 15-digit grid code chosen by hand.
    pub grid: Option<String>,
    /// A street address, as the reporter gives it.
    pub address: Option<String>,
    /// `grid_patrol`, `resident`, `hotline`, `other_network` or `open311`.
    pub channel: String,
    /// A 小类 code of the taxonomy; may be left empty at intake.
    pub category: Option<String>,
    /// `normal` (一般), `urgent` (紧急) or `critical` (特急); `normal` when absent.
    pub urgency: Option<String>,
    /// Who reported it; stored, and shown masked.
    pub reporter: Option<ReporterInput>,
    /// Content hashes of photos uploaded to `/api/v1/attachments`.
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// The reporter's contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterInput {
    /// Name.
    pub name: Option<String>,
    /// Phone number; stored sealed (encrypted), shown masked.
    pub phone: Option<String>,
    /// 身份证号; stored sealed (encrypted), shown masked.
    pub id_number: Option<String>,
}

/// A category with its name.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryRef {
    /// The 小类 code.
    pub code: String,
    /// The 小类 name.
    pub name: String,
    /// The 大类 name.
    pub major: String,
}

/// The reporter, masked (张某, 138****1234).
#[derive(Debug, Serialize, ToSchema)]
pub struct MaskedReporter {
    /// Surname and 某.
    pub name: Option<String>,
    /// First three and last four digits.
    pub phone: Option<String>,
}

/// The current stage's clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageClock {
    /// When the stage began (UTC).
    pub started_at: DateTime<Utc>,
    /// By when it must end (UTC); `null` for stages without a limit.
    pub deadline: Option<DateTime<Utc>>,
    /// `normal`, `yellow` (most of the time used) or `red` (overdue).
    pub alert: String,
    /// The remaining working time in Chinese (剩余1天3小时, 已超期2小时).
    pub remaining: Option<String>,
    /// The remaining working seconds (negative when overdue).
    pub remaining_seconds: Option<i64>,
}

/// A suggested unit to dispatch to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    /// Unit code.
    pub unit: String,
    /// Unit name.
    pub unit_name: String,
    /// Its tier.
    pub tier: String,
    /// `lead` (主办) or `assist` (协办).
    pub role: String,
}

/// One entry of the full-process record (全过程记录).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordEntry {
    /// The act's name.
    pub act: String,
    /// The act's Chinese name.
    pub act_label: String,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// From which state.
    pub from_state: Option<String>,
    /// To which state.
    pub to_state: Option<String>,
    /// When (UTC).
    pub at: String,
    /// The note.
    pub note: String,
    /// Content hashes of the attachments.
    pub attachments: Vec<String>,
    /// The act's fields.
    pub details: serde_json::Value,
    /// Its place in the county's chain.
    pub seq: i64,
    /// Its hash (SHA-256).
    pub hash: String,
}

/// A case as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseResponse {
    /// The case's id (UUIDv7): unguessable, stable.
    pub id: String,
    /// The human-readable number: county, date, daily sequence.
    pub number: String,
    /// The state.
    pub state: String,
    /// The state's Chinese name.
    pub state_label: String,
    /// The version to send with the next act.
    pub version: u32,
    /// The grid, when known.
    pub grid: Option<String>,
    /// The place's chain, from the deepest area up to the province.
    pub chain: Vec<AreaLink>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Address.
    pub address: Option<String>,
    /// The description, with phone and ID numbers masked.
    pub description: String,
    /// The channel it came in by.
    pub channel: String,
    /// The category, when known.
    pub category: Option<CategoryRef>,
    /// Categories suggested from the description while none is set.
    pub suggested_categories: Vec<CategoryRef>,
    /// `normal`, `urgent` or `critical`.
    pub urgency: String,
    /// The reporter, masked.
    pub reporter: MaskedReporter,
    /// Content hashes of the report's photos.
    pub attachments: Vec<String>,
    /// The tier that has the case.
    pub tier: String,
    /// The unit it was dispatched to.
    pub unit: Option<String>,
    /// Whether any stage ran past its deadline.
    pub overdue: bool,
    /// The current stage's clock.
    pub stage: StageClock,
    /// 督办: the date by which the urged unit must answer.
    pub urge_due: Option<DateTime<Utc>>,
    /// 满意度 after 回访.
    pub satisfaction: Option<String>,
    /// How often the case was returned, reworked, extended, escalated, reopened, urged,
    /// suspended.
    pub counts: serde_json::Value,
    /// The acts legal now.
    pub legal_acts: Vec<String>,
    /// Units the responsibility matrix suggests (with the whole case only).
    pub suggestions: Vec<Suggestion>,
    /// The whole record (with the whole case only).
    pub record: Vec<RecordEntry>,
    /// Reported at (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed at (UTC).
    pub updated_at: DateTime<Utc>,
    /// The code a resident follows the case with: shown once, in the answer to the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
}

/// One page of the case list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// Cases, newest first.
    pub cases: Vec<CaseResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The filters of `GET /api/v1/cases`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CaseListQuery {
    /// A region or grid code: the cases in its subtree.
    pub region: Option<String>,
    /// A grid code.
    pub grid: Option<String>,
    /// States, comma-separated.
    pub state: Option<String>,
    /// A 小类 code, or a 2-digit 大类 code.
    pub category: Option<String>,
    /// `grid`, `village`, `township`, `county`, `city`.
    pub tier: Option<String>,
    /// A channel.
    pub channel: Option<String>,
    /// A unit code.
    pub unit: Option<String>,
    /// `true` for cases that ran past a deadline.
    pub overdue: Option<bool>,
    /// Reported on or after this date (YYYY-MM-DD, Asia/Shanghai) or time (RFC 3339).
    pub from: Option<String>,
    /// Reported before the end of this date (YYYY-MM-DD) or before this time.
    pub to: Option<String>,
    /// The cursor of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
}

/// A stored attachment's address.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentRef {
    /// SHA-256 of the content: refer to it in a report or an act.
    pub hash: String,
    /// Its size in bytes.
    pub size: usize,
}

/// What `onegrid audit verify` and `GET /api/v1/audit/verify` report.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditReport {
    /// Whether every record and checkpoint is intact.
    pub intact: bool,
    /// Records checked.
    pub records: u64,
    /// County chains checked.
    pub chains: usize,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// The first broken record or checkpoint.
    pub first_problem: Option<String>,
}

/// The query of `GET /api/v1/regions/{code}/trend`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TrendQuery {
    /// First report date (YYYY-MM-DD, Asia/Shanghai), included.
    pub from: String,
    /// Last report date, included.
    pub to: String,
    /// `day`, `week` (ISO, Monday first) or `month`; without it, days up to 45 days, weeks
    /// up to 190, months beyond.
    pub step: Option<String>,
}

/// A region's cases reported in each step of a period, each counted as it stands now.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendResponse {
    /// The region.
    pub region: AreaLink,
    /// First report date, included.
    pub from: chrono::NaiveDate,
    /// Last report date, included.
    pub to: chrono::NaiveDate,
    /// `day`, `week` or `month`.
    pub step: String,
    /// One point per step of the period, in order; zero where nothing was reported.
    pub points: Vec<TrendPoint>,
}

/// One step of a trend.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPoint {
    /// `2026-03-05`, `2026-W10` (ISO week) or `2026-03`.
    pub label: String,
    /// The step's first day within the period.
    pub start: chrono::NaiveDate,
    /// Cases reported.
    pub reported: i64,
    /// Of those, accepted (受理).
    pub accepted: i64,
    /// Of those, handled (处置).
    pub handled: i64,
    /// Of those, closed (结案).
    pub closed: i64,
    /// Of those, overdue at some stage (超期).
    pub overdue: i64,
}

/// The query of `GET /api/v1/regions/{code}/overdue`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct OverdueQuery {
    /// How many cases at most, 1–200 (default 50).
    pub limit: Option<u32>,
}

/// The open cases of a region that ran past a deadline (超期未结), most overdue first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueListResponse {
    /// The newest open overdue cases, most overdue first.
    pub cases: Vec<OverdueCaseItem>,
    /// Whether more open overdue cases exist than were listed.
    pub more: bool,
}

/// One open overdue case, as a screen lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueCaseItem {
    /// The case's id.
    pub id: String,
    /// The case's number.
    pub number: String,
    /// The state.
    pub state: String,
    /// The state's Chinese name.
    pub state_label: String,
    /// The 小类 code, when known.
    pub category: Option<String>,
    /// The 小类's name, when known.
    pub category_name: Option<String>,
    /// The description, with phone and ID numbers masked.
    pub description: String,
    /// The place's chain from the deepest area up to the province.
    pub chain: Vec<AreaLink>,
    /// The tier that has the case.
    pub tier: String,
    /// The unit it was dispatched to.
    pub unit: Option<String>,
    /// `normal`, `urgent` or `critical`.
    pub urgency: String,
    /// Reported at (UTC).
    pub reported_at: DateTime<Utc>,
    /// The current stage's deadline (UTC).
    pub stage_deadline: Option<DateTime<Utc>>,
    /// Working seconds past the current stage's deadline; `null` when the current stage is
    /// within its time (the case ran late earlier).
    pub overdue_seconds: Option<i64>,
    /// The same in Chinese (`已超期1天2小时`).
    pub overdue_text: Option<String>,
}

/// The data of the `ready` and `change` events of `GET /api/v1/regions/{code}/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeEvent {
    /// The region's change mark: it differs from the last one whenever a case in the region's
    /// county (counties, for a city) changed; refetch the figures then.
    pub mark: i64,
}

/// Signing in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login name.
    pub login: String,
    /// The password.
    pub password: String,
    /// The six-digit TOTP code, for accounts with a second factor (every administrator).
    pub totp: Option<String>,
}

/// One role held in one scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    /// The role id.
    pub role: String,
    /// The role's Chinese name.
    pub role_label: String,
    /// A region code, a unit (`REGION:department`) or `own`.
    pub scope: String,
}

/// Who is signed in.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// The account id.
    pub id: String,
    /// The login name.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// Every role held, each in its scope (一人通全岗).
    pub assignments: Vec<AssignmentView>,
    /// The token cookie-authenticated writes echo in `X-CSRF-Token` (sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// When the session ends at the latest (UTC; sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    /// The login name: 2–64 letters, digits or `. _ - @`.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// The first password; it must meet the policy.
    pub password: Option<String>,
    /// Roles as `role@scope` (`grid_worker@140702001001001`, `unit_handler@140702:城管局`).
    pub roles: Vec<String>,
}

/// An account's roles, replaced whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentsRequest {
    /// Roles as `role@scope`.
    pub roles: Vec<String>,
}

/// An account as an administrator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// The account id.
    pub id: String,
    /// The login name.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// Every role held, each in its scope.
    pub assignments: Vec<AssignmentView>,
    /// Whether a TOTP second factor is on.
    pub totp_enabled: bool,
    /// Locked until (UTC), after too many failed sign-ins.
    pub locked_until: Option<DateTime<Utc>>,
    /// Whether the account is switched off.
    pub disabled: bool,
}

/// A new API token for another system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// The account the token acts as.
    pub login: String,
    /// What the token is for (the other system's name).
    pub name: String,
    /// Narrows the account's roles to this region or unit.
    pub scope: Option<String>,
}

/// A token; the secret is shown once, when it is made.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The token's id (for revoking it).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// The narrowed scope, if any.
    pub scope: Option<String>,
    /// The secret to send as `Authorization: Bearer`; only in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Made at (UTC).
    pub created_at: DateTime<Utc>,
    /// Last used at (UTC).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked at (UTC).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The full contact of a case's reporter (every reveal is recorded).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactResponse {
    /// Full name.
    pub name: Option<String>,
    /// Full phone number.
    pub phone: Option<String>,
    /// Full ID number.
    pub id_number: Option<String>,
}

/// A case as the public sees it by its tracking code: progress, masked text, no staff names.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicCaseResponse {
    /// The case number.
    pub number: String,
    /// The state.
    pub state: String,
    /// The state in Chinese.
    pub state_label: String,
    /// The category, once known.
    pub category: Option<CategoryRef>,
    /// The description, with phone and ID numbers masked.
    pub description: String,
    /// Each step: what was done and when.
    pub progress: Vec<PublicStep>,
    /// Reported at (UTC).
    pub created_at: DateTime<Utc>,
}

/// One step of a case's progress, as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStep {
    /// What was done (in Chinese).
    pub act_label: String,
    /// The state after it.
    pub to_state: Option<String>,
    /// When (UTC, RFC 3339).
    pub at: String,
}

/// The period and filters of the security record.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SecurityEventQuery {
    /// From (YYYY-MM-DD, Asia/Shanghai, or RFC 3339); 30 days ago when absent.
    pub from: Option<String>,
    /// To, included; now when absent.
    pub to: Option<String>,
    /// Only this actor's events.
    pub actor: Option<String>,
    /// At most this many (1–1000, default 200).
    pub limit: Option<u32>,
}
