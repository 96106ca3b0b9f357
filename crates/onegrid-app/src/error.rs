//! The errors of the use cases.
//!
//! Policy: a use case returns `AppError`; the variants say what kind of failure it is (the
//! input, something missing, a conflict, or the store), and the server maps kinds to statuses in
//! one place. `Invalid` carries every problem found, each naming where it is (line and field,
//! or feature index and code), so that one run of an import shows the whole list.

use onegrid_store::StoreError;
use serde::Serialize;

/// One problem in an input, located as precisely as the input allows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Where: `line 12, field code`, `feature 3 (code 140702001001001)`.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}{}", render_problems(.problems))]
    Invalid {
        message: String,
        problems: Vec<Problem>,
    },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// No valid credential, or one that ran out: sign in (again).
    #[error("{0}")]
    Unauthenticated(String),
    /// The account is locked after too many failures.
    #[error("{message}")]
    Locked {
        message: String,
        retry_after_seconds: u64,
    },
    /// Too many attempts from one address or for one account.
    #[error("too many attempts: retry after {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    #[error("this Idempotency-Key was used before with a different request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::Invalid {
            message: message.into(),
            problems: Vec::new(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::NotFound { what: what.into() }
    }
}

fn render_problems(problems: &[Problem]) -> String {
    let mut text = String::new();
    for problem in problems {
        text.push_str("\n  - ");
        text.push_str(&problem.to_string());
    }
    text
}

pub type AppResult<T> = Result<T, AppError>;
