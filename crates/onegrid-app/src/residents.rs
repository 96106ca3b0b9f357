//! What a resident may do to a case after it is closed: rate the result (回访评价), by the
//! tracking code they were given when they reported without an account, or as the signed-in
//! owner of the case.
//!
//! This is the one path through which a resident takes an act. The domain keeps `follow_up`
//! for the centre's roles (`Act::permitted_roles`); a resident reaches it only here, only on
//! their own case (the tracking code or the account the case was reported from proves it), and
//! the record names the role `resident`.

use chrono::Utc;
use onegrid_domain::access::Role;
use onegrid_domain::case::{ActInput, Case, CaseState, RESIDENT_ACTS, Satisfaction};

use crate::access::Principal;
use crate::cases::Actor;
use crate::{App, AppError, AppResult};

/// Whose case is being rated: the code of an anonymous report, or a resident's account.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    TrackingCode { code: &'a str, address: &'a str },
    Account(&'a Principal),
}

impl App {
    /// Records the resident's rating of their own closed case as a `follow_up` act of the role
    /// `resident`. A case that is not theirs is "not found"; one not closed (or already rated)
    /// answers a conflict naming its state.
    pub async fn rate_own_case(
        &self,
        owner: Owner<'_>,
        case_id_or_number: Option<&str>,
        satisfaction: Satisfaction,
        note: &str,
    ) -> AppResult<Case> {
        let (case, actor) = match owner {
            Owner::TrackingCode { code, address } => {
                let view = self.case_by_tracking_code(code, address).await?;
                let actor = Actor {
                    name: "公众（跟踪码）".to_owned(),
                    role: Role::Resident.as_str().to_owned(),
                };
                (view.case, actor)
            }
            Owner::Account(principal) => {
                if !principal.has_role(Role::Resident) {
                    return Err(AppError::Forbidden(
                        "只有居民本人可以评价自己上报的事件".to_owned(),
                    ));
                }
                let id = case_id_or_number.ok_or_else(|| AppError::invalid("case: 请指明事件"))?;
                let case = match self.store().case(id).await? {
                    Some(case) => Some(case),
                    None => self.store().case_by_number(id).await?,
                }
                .filter(|case| case.reporter.account.as_deref() == Some(&principal.user_id))
                .ok_or_else(|| AppError::not_found(format!("case {id}")))?;
                (case, principal.actor(Role::Resident))
            }
        };
        let input = ActInput::FollowUp {
            satisfaction,
            note: note.trim().to_owned(),
        };
        debug_assert!(RESIDENT_ACTS.contains(&input.act()));
        if case.state != CaseState::Closed {
            return Err(AppError::Conflict(format!(
                "事件 {} 当前为「{}」，结案后才能评价",
                case.number,
                case.state.label()
            )));
        }
        self.apply_and_store(case, input, &actor, Utc::now()).await
    }
}
