//! Cases (事件/案件) and their closed loop (GB/T 30428: 受理 → 立案 → 派遣 → 处置 → 反馈 → 核查 →
//! 结案 → 评价), as a state machine that matches every (state, act) pair exhaustively.
//!
//! `apply` is pure: given a case, an act with its fields and the context (the time, the
//! calendar, the taxonomy), it returns the case as it now stands and what the full-process
//! record must say, or refuses naming the acts that are legal now. Storing the result and its
//! record in one transaction is the store's business.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{Alert, Calendar, LimitUnit, TimeLimit};
use crate::taxonomy::{Taxonomy, Tier, Urgency};

/// How a case came in (多网合一: every channel enters the same case model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 网格员巡查上报
    GridPatrol,
    /// 群众上报
    Resident,
    /// 12345 热线
    Hotline,
    /// 其他业务网（多网合一）
    OtherNetwork,
    /// Open311 GeoReport v2
    Open311,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::GridPatrol,
        Channel::Resident,
        Channel::Hotline,
        Channel::OtherNetwork,
        Channel::Open311,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::GridPatrol => "grid_patrol",
            Channel::Resident => "resident",
            Channel::Hotline => "hotline",
            Channel::OtherNetwork => "other_network",
            Channel::Open311 => "open311",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::GridPatrol => "网格员巡查",
            Channel::Resident => "群众上报",
            Channel::Hotline => "12345热线",
            Channel::OtherNetwork => "其他业务网",
            Channel::Open311 => "Open311",
        }
    }
}

impl FromStr for Channel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "channel '{text}' is unknown; use grid_patrol, resident, hotline, \
                     other_network or open311"
                )
            })
    }
}

/// Where a case stands in the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 待受理
    Reported,
    /// 不予受理 (final)
    Rejected,
    /// 已受理，待立案
    Accepted,
    /// 已立案，待派遣
    Registered,
    /// 已派遣，待签收
    Dispatched,
    /// 处置中
    Handling,
    /// 已反馈，待核查
    ReportedBack,
    /// 核查通过，待结案
    Verified,
    /// 已结案，待回访
    Closed,
    /// 已回访评价
    Evaluated,
    /// 挂账（缓办）
    Suspended,
    /// 已作废 (final)
    Voided,
}

impl CaseState {
    pub const ALL: [CaseState; 12] = [
        CaseState::Reported,
        CaseState::Rejected,
        CaseState::Accepted,
        CaseState::Registered,
        CaseState::Dispatched,
        CaseState::Handling,
        CaseState::ReportedBack,
        CaseState::Verified,
        CaseState::Closed,
        CaseState::Evaluated,
        CaseState::Suspended,
        CaseState::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Reported => "reported",
            CaseState::Rejected => "rejected",
            CaseState::Accepted => "accepted",
            CaseState::Registered => "registered",
            CaseState::Dispatched => "dispatched",
            CaseState::Handling => "handling",
            CaseState::ReportedBack => "reported_back",
            CaseState::Verified => "verified",
            CaseState::Closed => "closed",
            CaseState::Evaluated => "evaluated",
            CaseState::Suspended => "suspended",
            CaseState::Voided => "voided",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseState::Reported => "待受理",
            CaseState::Rejected => "不予受理",
            CaseState::Accepted => "待立案",
            CaseState::Registered => "待派遣",
            CaseState::Dispatched => "待签收",
            CaseState::Handling => "处置中",
            CaseState::ReportedBack => "待核查",
            CaseState::Verified => "待结案",
            CaseState::Closed => "已结案",
            CaseState::Evaluated => "已评价",
            CaseState::Suspended => "挂账",
            CaseState::Voided => "已作废",
        }
    }

    /// States in which the case is still being worked on (counted as open; time runs).
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseState::Rejected | CaseState::Closed | CaseState::Evaluated | CaseState::Voided
        )
    }
}

impl FromStr for CaseState {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CaseState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("state '{text}' is unknown"))
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The acts of the contract, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    Report,
    Accept,
    Reject,
    Register,
    Dispatch,
    Sign,
    Return,
    Handle,
    ReportBack,
    VerifyPass,
    VerifyFail,
    Close,
    FollowUp,
    Reopen,
    Suspend,
    Resume,
    Extend,
    Void,
    Escalate,
    Urge,
    SettleOnSpot,
    /// The overdue job's mark (system only).
    MarkOverdue,
}

impl Act {
    pub fn as_str(self) -> &'static str {
        match self {
            Act::Report => "report",
            Act::Accept => "accept",
            Act::Reject => "reject",
            Act::Register => "register",
            Act::Dispatch => "dispatch",
            Act::Sign => "sign",
            Act::Return => "return",
            Act::Handle => "handle",
            Act::ReportBack => "report_back",
            Act::VerifyPass => "verify_pass",
            Act::VerifyFail => "verify_fail",
            Act::Close => "close",
            Act::FollowUp => "follow_up",
            Act::Reopen => "reopen",
            Act::Suspend => "suspend",
            Act::Resume => "resume",
            Act::Extend => "extend",
            Act::Void => "void",
            Act::Escalate => "escalate",
            Act::Urge => "urge",
            Act::SettleOnSpot => "settle_on_spot",
            Act::MarkOverdue => "mark_overdue",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Act::Report => "上报",
            Act::Accept => "受理",
            Act::Reject => "不予受理",
            Act::Register => "立案",
            Act::Dispatch => "派遣",
            Act::Sign => "签收",
            Act::Return => "退回",
            Act::Handle => "处置",
            Act::ReportBack => "反馈",
            Act::VerifyPass => "核查通过",
            Act::VerifyFail => "核查不通过（返工）",
            Act::Close => "结案",
            Act::FollowUp => "回访评价",
            Act::Reopen => "重新办理",
            Act::Suspend => "挂账（缓办）",
            Act::Resume => "恢复办理",
            Act::Extend => "延期",
            Act::Void => "作废",
            Act::Escalate => "上报上级",
            Act::Urge => "督办",
            Act::SettleOnSpot => "就地处置",
            Act::MarkOverdue => "超期标记",
        }
    }
}

impl Act {
    /// The roles (DESIGN's role ids) that may take this act. Suspension, extension, reopening
    /// and voiding need the centre's lead (值班长) to approve; the system (the overdue sweep)
    /// may take any act and is the only one to mark a case overdue.
    pub fn permitted_roles(self) -> &'static [&'static str] {
        match self {
            Act::Report => &[
                "grid_worker",
                "community_staff",
                "centre_intake",
                "centre_dispatcher",
                "centre_lead",
                "unit_handler",
                "resident",
            ],
            Act::Accept | Act::Reject | Act::Register => {
                &["centre_intake", "centre_lead", "community_staff"]
            }
            Act::Dispatch => &["centre_dispatcher", "centre_lead", "community_staff"],
            Act::Sign | Act::Return | Act::Handle | Act::ReportBack => {
                &["unit_handler", "community_staff", "grid_worker"]
            }
            Act::VerifyPass | Act::VerifyFail => &[
                "grid_worker",
                "community_staff",
                "centre_intake",
                "centre_lead",
            ],
            Act::Close => &["centre_intake", "centre_dispatcher", "centre_lead"],
            Act::FollowUp => &["centre_intake", "centre_lead", "community_staff"],
            Act::Reopen | Act::Suspend | Act::Resume | Act::Extend | Act::Void => &["centre_lead"],
            Act::Escalate => &[
                "grid_worker",
                "community_staff",
                "centre_dispatcher",
                "centre_lead",
            ],
            Act::Urge => &["centre_lead", "leader"],
            Act::SettleOnSpot => &["grid_worker"],
            Act::MarkOverdue => &[],
        }
    }
}

/// Whether a person in `role` may take `act`.
pub fn may_take(role: &str, act: Act) -> bool {
    role == SYSTEM_ROLE || act.permitted_roles().contains(&role)
}

/// The role of the system's own acts (the overdue sweep).
pub const SYSTEM_ROLE: &str = "system";

/// The acts a resident may take, and only on their own case (proved by its tracking code or
/// the account it was reported from): rating the closed result. They are not in
/// [`Act::permitted_roles`], so no assignment grants them; the application's resident path
/// (`onegrid_app::residents`) is the one way to them.
pub const RESIDENT_ACTS: &[Act] = &[Act::FollowUp];

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a case is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RejectReason {
    /// 无效信息
    Invalid,
    /// 重复上报: the case it duplicates.
    Duplicate { of: String },
    /// 不属于受理范围
    OutOfScope,
}

/// 满意度
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

impl Satisfaction {
    pub fn label(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "满意",
            Satisfaction::BasicallySatisfied => "基本满意",
            Satisfaction::Unsatisfied => "不满意",
        }
    }
}

/// An act with its fields, as a client sends it (`{"act": "dispatch", "unit": …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "act", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActInput {
    Accept {
        #[serde(default)]
        note: String,
    },
    Reject {
        reason: RejectReason,
        #[serde(default)]
        note: String,
    },
    Register {
        /// The 小类 code; required unless the case already has one.
        #[serde(default)]
        category: Option<String>,
        #[serde(default)]
        urgency: Option<Urgency>,
        #[serde(default)]
        note: String,
    },
    Dispatch {
        /// The unit that will handle it.
        unit: String,
        /// The tier of that unit; the case's tier when absent.
        #[serde(default)]
        tier: Option<Tier>,
        #[serde(default)]
        note: String,
    },
    Sign {
        #[serde(default)]
        note: String,
    },
    Return {
        reason: String,
    },
    Handle {
        note: String,
    },
    ReportBack {
        note: String,
        /// Content hashes of the evidence photos.
        #[serde(default)]
        attachments: Vec<String>,
    },
    VerifyPass {
        #[serde(default)]
        note: String,
    },
    VerifyFail {
        note: String,
    },
    Close {
        #[serde(default)]
        note: String,
    },
    FollowUp {
        satisfaction: Satisfaction,
        #[serde(default)]
        note: String,
    },
    Reopen {
        reason: String,
    },
    Suspend {
        reason: String,
        #[serde(default)]
        until: Option<DateTime<Utc>>,
    },
    Resume {
        #[serde(default)]
        note: String,
    },
    Extend {
        amount: u32,
        #[serde(default = "default_extend_unit")]
        unit: LimitUnit,
        reason: String,
    },
    Void {
        reason: String,
    },
    Escalate {
        reason: String,
    },
    Urge {
        due: DateTime<Utc>,
        #[serde(default)]
        note: String,
    },
    SettleOnSpot {
        note: String,
        #[serde(default)]
        attachments: Vec<String>,
    },
    MarkOverdue {
        #[serde(default)]
        note: String,
    },
}

fn default_extend_unit() -> LimitUnit {
    LimitUnit::WorkingDays
}

impl ActInput {
    pub fn act(&self) -> Act {
        match self {
            ActInput::Accept { .. } => Act::Accept,
            ActInput::Reject { .. } => Act::Reject,
            ActInput::Register { .. } => Act::Register,
            ActInput::Dispatch { .. } => Act::Dispatch,
            ActInput::Sign { .. } => Act::Sign,
            ActInput::Return { .. } => Act::Return,
            ActInput::Handle { .. } => Act::Handle,
            ActInput::ReportBack { .. } => Act::ReportBack,
            ActInput::VerifyPass { .. } => Act::VerifyPass,
            ActInput::VerifyFail { .. } => Act::VerifyFail,
            ActInput::Close { .. } => Act::Close,
            ActInput::FollowUp { .. } => Act::FollowUp,
            ActInput::Reopen { .. } => Act::Reopen,
            ActInput::Suspend { .. } => Act::Suspend,
            ActInput::Resume { .. } => Act::Resume,
            ActInput::Extend { .. } => Act::Extend,
            ActInput::Void { .. } => Act::Void,
            ActInput::Escalate { .. } => Act::Escalate,
            ActInput::Urge { .. } => Act::Urge,
            ActInput::SettleOnSpot { .. } => Act::SettleOnSpot,
            ActInput::MarkOverdue { .. } => Act::MarkOverdue,
        }
    }

    /// The free-text note of the act, for the record.
    pub fn note(&self) -> String {
        match self {
            ActInput::Accept { note }
            | ActInput::Reject { note, .. }
            | ActInput::Register { note, .. }
            | ActInput::Dispatch { note, .. }
            | ActInput::Sign { note }
            | ActInput::Handle { note }
            | ActInput::ReportBack { note, .. }
            | ActInput::VerifyPass { note }
            | ActInput::VerifyFail { note }
            | ActInput::Close { note }
            | ActInput::FollowUp { note, .. }
            | ActInput::Resume { note }
            | ActInput::Urge { note, .. }
            | ActInput::SettleOnSpot { note, .. }
            | ActInput::MarkOverdue { note } => note.clone(),
            ActInput::Return { reason }
            | ActInput::Reopen { reason }
            | ActInput::Suspend { reason, .. }
            | ActInput::Extend { reason, .. }
            | ActInput::Void { reason }
            | ActInput::Escalate { reason } => reason.clone(),
        }
    }

    pub fn attachments(&self) -> &[String] {
        match self {
            ActInput::ReportBack { attachments, .. }
            | ActInput::SettleOnSpot { attachments, .. } => attachments,
            _ => &[],
        }
    }
}

/// The person who reported, as stored. Shown masked (see `masking`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    #[serde(default)]
    pub name: Option<String>,
    /// As stored: sealed with the configured key (the application seals and opens it).
    #[serde(default)]
    pub phone: Option<String>,
    /// 身份证号, sealed like the phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// Keyed hash of the phone number, to find a person's cases without opening every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_hash: Option<String>,
    /// The resident's account, when they reported signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Keyed hash of the tracking code the resident was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_hash: Option<String>,
}

/// The case as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    /// Human-readable number: county code, date (Shanghai) and a daily sequence.
    pub number: String,
    /// The county the case belongs to (its chain's county; the shard key).
    pub county: String,
    /// The grid the case lies in, when known.
    pub grid: Option<String>,
    /// Region codes from the deepest known area up to the province.
    pub chain: Vec<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: Option<String>,
    pub description: String,
    pub channel: Channel,
    /// 小类 code, empty until known.
    pub category: Option<String>,
    pub urgency: Urgency,
    pub reporter: Reporter,
    /// Content hashes of photos sent with the report.
    pub attachments: Vec<String>,
    pub state: CaseState,
    /// The tier whose centre or unit has the case now.
    pub tier: Tier,
    /// The unit it was dispatched to.
    pub unit: Option<String>,
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the current stage began and by when it must end.
    pub stage_started_at: DateTime<Utc>,
    pub stage_deadline: Option<DateTime<Utc>>,
    /// The state a suspended case returns to.
    pub suspended_from: Option<CaseState>,
    pub reject_reason: Option<RejectReason>,
    pub satisfaction: Option<Satisfaction>,
    pub urge_due: Option<DateTime<Utc>>,
    /// Whether any stage of this case ran past its deadline.
    pub overdue: bool,
    /// Whether the current stage has been marked overdue (reset when a stage starts).
    pub stage_overdue: bool,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub counts: ActCounts,
}

/// How often the loop went round in ways the metrics count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActCounts {
    pub returns: u32,
    pub reworks: u32,
    pub extensions: u32,
    pub escalations: u32,
    pub reopens: u32,
    pub urges: u32,
    pub suspensions: u32,
}

/// What a new case needs, after its place is resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub id: String,
    pub number: String,
    pub county: String,
    pub grid: Option<String>,
    pub chain: Vec<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: Option<String>,
    pub description: String,
    pub channel: Channel,
    pub category: Option<String>,
    pub urgency: Urgency,
    pub reporter: Reporter,
    pub attachments: Vec<String>,
    /// The tier the case starts at: a grid worker's report starts at grid tier, a resident's
    /// or the hotline's at the tier of the centre that receives it.
    pub tier: Tier,
}

/// Time limits of the stages that are not the handling itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StageLimits {
    pub accept: TimeLimit,
    pub register: TimeLimit,
    pub dispatch: TimeLimit,
    pub sign: TimeLimit,
    pub verify: TimeLimit,
    pub close: TimeLimit,
    /// Share of a stage's time after which it shows yellow.
    pub yellow_share: f64,
}

impl Default for StageLimits {
    fn default() -> StageLimits {
        let hours = |amount| TimeLimit {
            amount,
            unit: LimitUnit::WorkingHours,
        };
        StageLimits {
            accept: hours(2),
            register: hours(2),
            dispatch: hours(2),
            sign: hours(4),
            verify: TimeLimit {
                amount: 1,
                unit: LimitUnit::WorkingDays,
            },
            close: TimeLimit {
                amount: 1,
                unit: LimitUnit::WorkingDays,
            },
            yellow_share: 0.8,
        }
    }
}

/// What `apply` needs besides the case and the act.
pub struct ActContext<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a Calendar,
    pub taxonomy: &'a Taxonomy,
    pub limits: &'a StageLimits,
}

/// Why an act was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActError {
    #[error("act '{act}' is not legal while the case is {state} ({label}); legal now: {legal}", label = state.label(), legal = render_acts(legal))]
    Illegal {
        act: Act,
        state: CaseState,
        legal: Vec<Act>,
    },
    #[error("{0}")]
    Invalid(String),
}

fn render_acts(acts: &[Act]) -> String {
    if acts.is_empty() {
        return "none (the case is final)".to_owned();
    }
    acts.iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outcome of an act: the case as it now stands and what the record says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub case: Case,
    pub act: Act,
    pub from: CaseState,
    pub to: CaseState,
    pub note: String,
    pub attachments: Vec<String>,
    /// The act's fields, for the record.
    pub details: serde_json::Value,
}

/// The acts a person may take on the case in its present state (not counting the system's
/// overdue mark, nor role checks).
pub fn legal_acts(case: &Case) -> Vec<Act> {
    let mut acts: Vec<Act> = match case.state {
        CaseState::Reported => vec![
            Act::Accept,
            Act::Reject,
            Act::Escalate,
            Act::SettleOnSpot,
            Act::Void,
        ],
        CaseState::Accepted => vec![Act::Register, Act::Escalate, Act::Void],
        CaseState::Registered => vec![Act::Dispatch, Act::Escalate, Act::Urge, Act::Void],
        CaseState::Dispatched => vec![Act::Sign, Act::Return, Act::Urge, Act::Void],
        CaseState::Handling => vec![
            Act::Handle,
            Act::ReportBack,
            Act::Suspend,
            Act::Extend,
            Act::Escalate,
            Act::Urge,
            Act::Void,
        ],
        CaseState::ReportedBack => vec![Act::VerifyPass, Act::VerifyFail, Act::Void],
        CaseState::Verified => vec![Act::Close],
        CaseState::Closed => vec![Act::FollowUp, Act::Reopen],
        CaseState::Evaluated => vec![],
        CaseState::Suspended => vec![Act::Resume, Act::Urge, Act::Void],
        CaseState::Rejected | CaseState::Voided => vec![],
    };
    if case.state == CaseState::Evaluated && case.satisfaction == Some(Satisfaction::Unsatisfied) {
        acts.push(Act::Reopen);
    }
    // Only a case still in the grid can be settled on the spot by its grid worker.
    if case.tier != Tier::Grid {
        acts.retain(|a| *a != Act::SettleOnSpot);
    }
    // A case already at the city's centre has nowhere further up to go.
    if case.tier.next_up().is_none() {
        acts.retain(|a| *a != Act::Escalate);
    }
    acts
}

impl Case {
    /// A new case, just reported.
    pub fn new(new: NewCase, ctx: &ActContext) -> Case {
        let mut case = Case {
            id: new.id,
            number: new.number,
            county: new.county,
            grid: new.grid,
            chain: new.chain,
            lon: new.lon,
            lat: new.lat,
            address: new.address,
            description: new.description,
            channel: new.channel,
            category: new.category,
            urgency: new.urgency,
            reporter: new.reporter,
            attachments: new.attachments,
            state: CaseState::Reported,
            tier: new.tier,
            unit: None,
            version: 1,
            created_at: ctx.now,
            updated_at: ctx.now,
            stage_started_at: ctx.now,
            stage_deadline: None,
            suspended_from: None,
            reject_reason: None,
            satisfaction: None,
            urge_due: None,
            overdue: false,
            stage_overdue: false,
            dispatched_at: None,
            handled_at: None,
            closed_at: None,
            counts: ActCounts::default(),
        };
        case.start_stage(ctx, Some(ctx.limits.accept));
        case
    }

    fn start_stage(&mut self, ctx: &ActContext, limit: Option<TimeLimit>) {
        self.stage_started_at = ctx.now;
        self.stage_overdue = false;
        self.stage_deadline = limit.map(|limit| ctx.calendar.deadline(ctx.now, limit));
    }

    /// The 处置时限 of the case's category at its urgency.
    fn handling_limit(&self, taxonomy: &Taxonomy) -> Option<TimeLimit> {
        let code = self.category.as_deref()?;
        let (_, minor) = taxonomy.minor(code)?;
        Some(match self.urgency {
            Urgency::Normal => minor.time_limits.normal,
            Urgency::Urgent => minor.time_limits.urgent,
            Urgency::Critical => minor.time_limits.critical,
        })
    }

    /// The traffic light of the current stage.
    pub fn alert(&self, calendar: &Calendar, now: DateTime<Utc>, yellow_share: f64) -> Alert {
        match self.stage_deadline {
            Some(deadline) if self.state.is_open() && self.state != CaseState::Suspended => {
                calendar.alert(self.stage_started_at, deadline, now, yellow_share)
            }
            _ => Alert::Normal,
        }
    }
}

/// Applies `input` to `case`. Pure: nothing is stored here.
pub fn apply(case: &Case, input: &ActInput, ctx: &ActContext) -> Result<Transition, ActError> {
    let act = input.act();
    let legal = legal_acts(case);
    let system_mark = act == Act::MarkOverdue && case.state.is_open();
    if !legal.contains(&act) && !system_mark {
        return Err(ActError::Illegal {
            act,
            state: case.state,
            legal,
        });
    }
    let mut next = case.clone();
    let limits = ctx.limits;
    match input {
        ActInput::Accept { .. } => {
            next.state = CaseState::Accepted;
            next.start_stage(ctx, Some(limits.register));
        }
        ActInput::Reject { reason, .. } => {
            if let RejectReason::Duplicate { of } = reason
                && (of.is_empty() || *of == case.id || *of == case.number)
            {
                return Err(ActError::Invalid(
                    "a duplicate must name the other case (reason.of)".to_owned(),
                ));
            }
            next.state = CaseState::Rejected;
            next.reject_reason = Some(reason.clone());
            next.start_stage(ctx, None);
        }
        ActInput::Register {
            category, urgency, ..
        } => {
            if let Some(code) = category {
                if ctx.taxonomy.minor(code).is_none() {
                    return Err(ActError::Invalid(format!(
                        "category '{code}' is not a 小类 of the taxonomy"
                    )));
                }
                next.category = Some(code.clone());
            }
            if next.category.is_none() {
                return Err(ActError::Invalid(
                    "立案 needs a category: give 'category' (a 小类 code)".to_owned(),
                ));
            }
            if let Some(urgency) = urgency {
                next.urgency = *urgency;
            }
            next.state = CaseState::Registered;
            next.start_stage(ctx, Some(limits.dispatch));
        }
        ActInput::Dispatch { unit, tier, .. } => {
            if unit.trim().is_empty() {
                return Err(ActError::Invalid("dispatch needs a unit".to_owned()));
            }
            next.unit = Some(unit.clone());
            if let Some(tier) = tier {
                next.tier = *tier;
            }
            next.state = CaseState::Dispatched;
            next.dispatched_at = Some(ctx.now);
            next.start_stage(ctx, Some(limits.sign));
        }
        ActInput::Sign { .. } => {
            next.state = CaseState::Handling;
            let limit = next.handling_limit(ctx.taxonomy);
            next.start_stage(ctx, limit);
        }
        ActInput::Return { reason } => {
            require_text("reason", reason)?;
            next.state = CaseState::Registered;
            next.unit = None;
            next.counts.returns += 1;
            next.start_stage(ctx, Some(limits.dispatch));
        }
        ActInput::Handle { note } => {
            require_text("note", note)?;
            next.handled_at = Some(ctx.now);
        }
        ActInput::ReportBack { note, .. } => {
            require_text("note", note)?;
            next.state = CaseState::ReportedBack;
            next.handled_at.get_or_insert(ctx.now);
            next.start_stage(ctx, Some(limits.verify));
        }
        ActInput::VerifyPass { .. } => {
            next.state = CaseState::Verified;
            next.start_stage(ctx, Some(limits.close));
        }
        ActInput::VerifyFail { note } => {
            require_text("note", note)?;
            next.state = CaseState::Handling;
            next.counts.reworks += 1;
            next.handled_at = None;
            let limit = next.handling_limit(ctx.taxonomy);
            next.start_stage(ctx, limit);
        }
        ActInput::Close { .. } => {
            next.state = CaseState::Closed;
            next.closed_at = Some(ctx.now);
            next.start_stage(ctx, None);
        }
        ActInput::FollowUp { satisfaction, .. } => {
            next.state = CaseState::Evaluated;
            next.satisfaction = Some(*satisfaction);
        }
        ActInput::Reopen { reason } => {
            require_text("reason", reason)?;
            next.state = CaseState::Registered;
            next.counts.reopens += 1;
            next.closed_at = None;
            next.handled_at = None;
            next.satisfaction = None;
            next.unit = None;
            next.start_stage(ctx, Some(limits.dispatch));
        }
        ActInput::Suspend { reason, until } => {
            require_text("reason", reason)?;
            if until.is_some_and(|until| until <= ctx.now) {
                return Err(ActError::Invalid(
                    "'until' must lie in the future".to_owned(),
                ));
            }
            next.suspended_from = Some(case.state);
            next.state = CaseState::Suspended;
            next.counts.suspensions += 1;
        }
        ActInput::Resume { .. } => {
            let back = case.suspended_from.unwrap_or(CaseState::Handling);
            next.state = back;
            next.suspended_from = None;
            // The clock restarts: the time spent suspended is not counted against the unit.
            let limit = next.handling_limit(ctx.taxonomy);
            next.start_stage(ctx, limit);
        }
        ActInput::Extend {
            amount,
            unit,
            reason,
        } => {
            require_text("reason", reason)?;
            if *amount == 0 {
                return Err(ActError::Invalid(
                    "an extension needs an amount > 0".to_owned(),
                ));
            }
            let base = next.stage_deadline.unwrap_or(ctx.now).max(ctx.now);
            next.stage_deadline = Some(ctx.calendar.deadline(
                base,
                TimeLimit {
                    amount: *amount,
                    unit: *unit,
                },
            ));
            next.counts.extensions += 1;
            next.stage_overdue = false;
        }
        ActInput::Void { reason } => {
            require_text("reason", reason)?;
            next.state = CaseState::Voided;
            next.start_stage(ctx, None);
        }
        ActInput::Escalate { reason } => {
            require_text("reason", reason)?;
            let Some(up) = case.tier.next_up() else {
                return Err(ActError::Invalid(
                    "the case is already at the city tier".to_owned(),
                ));
            };
            next.tier = up;
            next.unit = None;
            next.counts.escalations += 1;
            // The next tier's centre takes it from registration: it is accepted already.
            next.state = CaseState::Registered;
            next.start_stage(ctx, Some(limits.dispatch));
        }
        ActInput::Urge { due, .. } => {
            if *due <= ctx.now {
                return Err(ActError::Invalid("'due' must lie in the future".to_owned()));
            }
            next.urge_due = Some(*due);
            next.counts.urges += 1;
        }
        ActInput::SettleOnSpot { note, .. } => {
            require_text("note", note)?;
            if case.tier != Tier::Grid {
                return Err(ActError::Invalid(
                    "就地处置 is for cases at grid tier".to_owned(),
                ));
            }
            next.state = CaseState::ReportedBack;
            next.handled_at = Some(ctx.now);
            next.start_stage(ctx, Some(limits.verify));
        }
        ActInput::MarkOverdue { .. } => {
            next.overdue = true;
            next.stage_overdue = true;
        }
    }
    next.version = case.version + 1;
    next.updated_at = ctx.now;
    let details = serde_json::to_value(input).unwrap_or(serde_json::Value::Null);
    Ok(Transition {
        from: case.state,
        to: next.state,
        act,
        note: input.note(),
        attachments: input.attachments().to_vec(),
        details,
        case: next,
    })
}

fn require_text(field: &str, text: &str) -> Result<(), ActError> {
    if text.trim().is_empty() {
        return Err(ActError::Invalid(format!("'{field}' must not be empty")));
    }
    Ok(())
}
