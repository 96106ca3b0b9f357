//! Who may see and do what: roles, the scopes they hold them in, what each role may do, and the
//! password policy (等保 level 3).
//!
//! A person holds one or more [`Assignment`]s (一人通全岗): a role in a scope — a region subtree
//! (a province, city, county, township, village or one grid) or a unit. What they may see is the
//! union of the scopes of the assignments whose role may see it; what they may do to a case
//! needs one assignment whose scope holds the case and whose role may take the act
//! (`case::may_take`). The three administrators (三权分立) hold no case rights at all.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::region::{Level, RegionCode};

/// The role ids of the outside contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    GridWorker,
    CommunityStaff,
    CentreIntake,
    CentreDispatcher,
    CentreLead,
    UnitHandler,
    Leader,
    Procurator,
    EnforcementSupervisor,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
    Resident,
}

impl Role {
    pub const ALL: [Role; 13] = [
        Role::GridWorker,
        Role::CommunityStaff,
        Role::CentreIntake,
        Role::CentreDispatcher,
        Role::CentreLead,
        Role::UnitHandler,
        Role::Leader,
        Role::Procurator,
        Role::EnforcementSupervisor,
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
        Role::Resident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::CommunityStaff => "community_staff",
            Role::CentreIntake => "centre_intake",
            Role::CentreDispatcher => "centre_dispatcher",
            Role::CentreLead => "centre_lead",
            Role::UnitHandler => "unit_handler",
            Role::Leader => "leader",
            Role::Procurator => "procurator",
            Role::EnforcementSupervisor => "enforcement_supervisor",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
            Role::Resident => "resident",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::GridWorker => "网格员",
            Role::CommunityStaff => "村（社区）工作人员",
            Role::CentreIntake => "受理员",
            Role::CentreDispatcher => "派遣员",
            Role::CentreLead => "值班长",
            Role::UnitHandler => "部门处置人员",
            Role::Leader => "领导",
            Role::Procurator => "检察官",
            Role::EnforcementSupervisor => "执法监督人员",
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
            Role::Resident => "居民",
        }
    }

    pub fn parse(text: &str) -> Result<Role, AccessError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text.trim())
            .ok_or_else(|| {
                AccessError::Invalid(format!(
                    "role: '{text}' is not a role; roles: {}",
                    Role::ALL.map(Role::as_str).join(" ")
                ))
            })
    }

    /// The three administrators of 三权分立: they keep the system, not the cases.
    pub fn is_administrator(self) -> bool {
        matches!(
            self,
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin
        )
    }

    /// Whether this role may do `capability` (inside its scope).
    pub fn may(self, capability: Capability) -> bool {
        use Capability as C;
        use Role as R;
        match capability {
            C::ReadCases | C::ListCases => matches!(
                self,
                R::GridWorker
                    | R::CommunityStaff
                    | R::CentreIntake
                    | R::CentreDispatcher
                    | R::CentreLead
                    | R::UnitHandler
                    | R::Leader
                    | R::Procurator
                    | R::EnforcementSupervisor
                    | R::Resident
            ),
            C::ActOnCases => matches!(
                self,
                R::GridWorker
                    | R::CommunityStaff
                    | R::CentreIntake
                    | R::CentreDispatcher
                    | R::CentreLead
                    | R::UnitHandler
                    | R::Leader
            ),
            C::ExportCases => matches!(
                self,
                R::CentreIntake | R::CentreDispatcher | R::CentreLead | R::Leader
            ),
            C::ReadReports => matches!(
                self,
                R::GridWorker
                    | R::CommunityStaff
                    | R::CentreIntake
                    | R::CentreDispatcher
                    | R::CentreLead
                    | R::Leader
                    | R::Procurator
                    | R::EnforcementSupervisor
            ),
            C::ExportReports => matches!(
                self,
                R::CentreIntake | R::CentreDispatcher | R::CentreLead | R::Leader
            ),
            C::ReportCases => matches!(
                self,
                R::GridWorker
                    | R::CommunityStaff
                    | R::CentreIntake
                    | R::CentreDispatcher
                    | R::CentreLead
                    | R::UnitHandler
                    | R::Resident
            ),
            // The full contact, for calling back (回访) and for supported prosecution.
            C::RevealPersonalData => {
                matches!(self, R::CentreIntake | R::CentreLead | R::Procurator)
            }
            C::ReadAudit => matches!(self, R::AuditAdmin),
            C::ManageAccounts => matches!(self, R::SecurityAdmin | R::SystemAdmin),
            C::ManagePolicy => matches!(self, R::SecurityAdmin),
            C::ManageSystem => matches!(self, R::SystemAdmin),
        }
    }

    /// Whether a holder of `self` may give `granted` to someone else. The security
    /// administrator grants every role; the system administrator grants the working roles but
    /// none of the three administrators'; nobody else grants anything.
    pub fn may_grant(self, granted: Role) -> bool {
        match self {
            Role::SecurityAdmin => true,
            Role::SystemAdmin => !granted.is_administrator(),
            _ => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a role may do; each is checked against the scope of the assignment that grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    ReadCases,
    ListCases,
    ActOnCases,
    ExportCases,
    ReadReports,
    ExportReports,
    ReportCases,
    RevealPersonalData,
    ReadAudit,
    ManageAccounts,
    ManagePolicy,
    ManageSystem,
}

/// Where an assignment holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Scope {
    /// A region's subtree, or one grid.
    Region(RegionCode),
    /// A unit: `{region code}:{department}` or `{region code}:gov`.
    Unit(String),
    /// A resident's own cases.
    Own,
}

impl Scope {
    /// `140702`, `140702001001001` → a region; `140702:urban_management` → a unit; `own`.
    pub fn parse(text: &str) -> Result<Scope, AccessError> {
        let text = text.trim();
        if text == "own" {
            return Ok(Scope::Own);
        }
        if let Some((region, department)) = text.split_once(':') {
            RegionCode::parse(region)
                .map_err(|e| AccessError::Invalid(format!("scope: '{text}': {e}")))?;
            let valid = !department.is_empty()
                && department.chars().count() <= 40
                && !department.chars().any(|c| c.is_whitespace() || c == ':');
            if !valid {
                return Err(AccessError::Invalid(format!(
                    "scope: '{text}': a unit is REGION:department, the department 1 to 40 \
                     characters without spaces"
                )));
            }
            return Ok(Scope::Unit(text.to_owned()));
        }
        RegionCode::parse(text)
            .map(Scope::Region)
            .map_err(|e| AccessError::Invalid(format!("scope: '{text}': {e}")))
    }

    pub fn code(&self) -> String {
        match self {
            Scope::Region(code) => code.to_string(),
            Scope::Unit(unit) => unit.clone(),
            Scope::Own => "own".to_owned(),
        }
    }

    /// The region the scope lies in: a unit's region, a region itself.
    pub fn region(&self) -> Option<RegionCode> {
        match self {
            Scope::Region(code) => Some(code.clone()),
            Scope::Unit(unit) => unit
                .split_once(':')
                .and_then(|(region, _)| RegionCode::parse(region).ok()),
            Scope::Own => None,
        }
    }

    /// Whether a region (or grid) lies inside this scope: for a region scope, its subtree;
    /// a unit or a resident sees no region as a whole.
    pub fn holds_region(&self, region: &RegionCode) -> bool {
        match self {
            Scope::Region(code) => region.is_within(code),
            Scope::Unit(_) | Scope::Own => false,
        }
    }
}

/// One role held in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub role: Role,
    pub scope: Scope,
}

impl Assignment {
    /// A role in a scope that fits it: residents hold `own`; a unit handler a unit; a grid
    /// worker grids or villages; every other role a region.
    pub fn new(role: Role, scope: Scope) -> Result<Assignment, AccessError> {
        let fits = match (&scope, role) {
            (Scope::Own, Role::Resident) => true,
            (Scope::Own, _) | (_, Role::Resident) => false,
            (Scope::Unit(_), Role::UnitHandler) => true,
            (Scope::Unit(_), _) | (_, Role::UnitHandler) => false,
            (Scope::Region(code), Role::GridWorker) => code.level() >= Level::Village,
            (Scope::Region(code), Role::CommunityStaff) => code.level() >= Level::Village,
            (
                Scope::Region(code),
                Role::CentreIntake | Role::CentreDispatcher | Role::CentreLead,
            ) => code.level() <= Level::Township,
            (Scope::Region(_), _) => true,
        };
        if !fits {
            return Err(AccessError::Invalid(format!(
                "scope: {} ({}) cannot be held in '{}'",
                role.as_str(),
                role.label(),
                scope.code()
            )));
        }
        Ok(Assignment { role, scope })
    }
}

/// Why an access rule refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("{0}")]
    Invalid(String),
}

/// The configurable account policy. The defaults are the floor of 等保 level 3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// Of lower case, upper case, digits and other characters.
    pub min_classes: usize,
    pub max_failures: u32,
    pub lock_minutes: i64,
    pub idle_minutes: i64,
    pub absolute_hours: i64,
    /// Security events and the record are kept at least this long.
    pub retention_days: i64,
}

impl Default for PasswordPolicy {
    fn default() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 8,
            min_classes: 3,
            max_failures: 5,
            lock_minutes: 15,
            idle_minutes: 15,
            absolute_hours: 12,
            retention_days: 180,
        }
    }
}

/// The least a policy may say: a configuration cannot go below these.
pub const MIN_RETENTION_DAYS: i64 = 180;

impl PasswordPolicy {
    /// Refuses a policy below the floor (every problem named).
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.min_length < 8 {
            problems.push("min_length: at least 8".to_owned());
        }
        if !(3..=4).contains(&self.min_classes) {
            problems.push("min_classes: 3 or 4".to_owned());
        }
        if self.max_failures == 0 || self.max_failures > 10 {
            problems.push("max_failures: 1 to 10".to_owned());
        }
        if self.lock_minutes < 15 {
            problems.push("lock_minutes: at least 15".to_owned());
        }
        if !(1..=30).contains(&self.idle_minutes) {
            problems.push("idle_minutes: 1 to 30".to_owned());
        }
        if !(1..=24).contains(&self.absolute_hours) {
            problems.push("absolute_hours: 1 to 24".to_owned());
        }
        if self.retention_days < MIN_RETENTION_DAYS {
            problems.push(format!(
                "retention_days: at least {MIN_RETENTION_DAYS} (等保 level 3)"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Every way `password` falls short, in Chinese, for the form.
    pub fn check_password(&self, password: &str, login: &str) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if password.chars().count() < self.min_length {
            problems.push(format!("密码至少{}位", self.min_length));
        }
        let classes = [
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_ascii_alphanumeric()),
        ]
        .into_iter()
        .filter(|present| *present)
        .count();
        if classes < self.min_classes {
            problems.push(format!(
                "密码须包含大写字母、小写字母、数字、符号中的至少{}类",
                self.min_classes
            ));
        }
        if !login.is_empty() && password.to_lowercase().contains(&login.to_lowercase()) {
            problems.push("密码不得包含登录名".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_ids_round_trip_and_unknown_is_named() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        let error = Role::parse("mayor").unwrap_err().to_string();
        assert!(error.contains("'mayor'"), "{error}");
    }

    #[test]
    fn administrators_hold_no_case_rights_and_separate_powers() {
        for admin in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin] {
            for capability in [
                Capability::ReadCases,
                Capability::ActOnCases,
                Capability::ListCases,
                Capability::ExportCases,
                Capability::RevealPersonalData,
            ] {
                assert!(!admin.may(capability), "{admin} {capability:?}");
            }
        }
        assert!(!Role::SystemAdmin.may(Capability::ReadAudit));
        assert!(Role::AuditAdmin.may(Capability::ReadAudit));
        assert!(!Role::AuditAdmin.may(Capability::ManageAccounts));
        assert!(!Role::SystemAdmin.may_grant(Role::SecurityAdmin));
        assert!(Role::SystemAdmin.may_grant(Role::GridWorker));
        assert!(!Role::Leader.may_grant(Role::GridWorker));
    }

    #[test]
    fn scopes_parse_and_fit_their_roles() {
        let grid = Scope::parse("140702001001001").unwrap();
        assert!(Assignment::new(Role::GridWorker, grid.clone()).is_ok());
        assert!(Assignment::new(Role::CentreIntake, grid).is_err());
        let unit = Scope::parse("140702:urban_management").unwrap();
        assert!(Assignment::new(Role::UnitHandler, unit.clone()).is_ok());
        assert!(Assignment::new(Role::Leader, unit).is_err());
        assert!(Scope::parse("140702:Bad Name").is_err());
        assert!(Scope::parse("140702:城管局").is_ok());
        assert!(Assignment::new(Role::Resident, Scope::Own).is_ok());
        let county = Scope::parse("140702").unwrap();
        assert!(county.holds_region(&RegionCode::parse("140702001001001").unwrap()));
        assert!(!county.holds_region(&RegionCode::parse("140703").unwrap()));
        assert!(!county.holds_region(&RegionCode::parse("140700").unwrap()));
    }

    #[test]
    fn password_policy_names_every_shortfall() {
        let policy = PasswordPolicy::default();
        assert!(policy.check_password("Jinzhong#2026", "wang").is_ok());
        let problems = policy.check_password("abc", "wang").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        let problems = policy.check_password("wangWang123", "wang").unwrap_err();
        assert_eq!(problems, vec!["密码不得包含登录名".to_owned()]);
        let mut weak = policy.clone();
        weak.retention_days = 90;
        weak.min_length = 6;
        assert_eq!(weak.validate().unwrap_err().len(), 2);
    }
}
