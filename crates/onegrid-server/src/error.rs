//! The one error policy of the HTTP layer.
//!
//! Every handler returns `Result<_, ApiError>`. An `ApiError` becomes the JSON error shape of
//! the outside contract, `{"error": {"code", "message", "details"}}`, with a fitting status:
//! bad input 400/422 with every problem in `details`, a missing thing 404, a conflict 409. A
//! store failure is a 500 whose body says nothing internal; the log says everything.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onegrid_app::AppError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// Seconds for a `Retry-After` header (rate limits, locks).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }

    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        match error {
            AppError::Invalid { message, problems } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                message,
                details: json!(problems),
                retry_after: None,
            },
            AppError::NotFound { what } => ApiError::not_found(format!("{what} not found")),
            AppError::Forbidden(message) => ApiError {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message,
                details: Value::Null,
                retry_after: None,
            },
            AppError::KeyReused => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "idempotency_key_reused",
                message: error.to_string(),
                details: Value::Null,
                retry_after: None,
            },
            AppError::Conflict(message) => ApiError {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message,
                details: Value::Null,
                retry_after: None,
            },
            AppError::Unauthenticated(message) => ApiError {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthenticated",
                message,
                details: Value::Null,
                retry_after: None,
            },
            AppError::Locked {
                message,
                retry_after_seconds,
            } => ApiError {
                status: StatusCode::LOCKED,
                code: "account_locked",
                message,
                details: Value::Null,
                retry_after: Some(retry_after_seconds),
            },
            AppError::RateLimited {
                retry_after_seconds,
            } => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message: format!("请求过于频繁，请{retry_after_seconds}秒后再试"),
                details: Value::Null,
                retry_after: Some(retry_after_seconds),
            },
            AppError::Store(error) => {
                tracing::error!(%error, "store failure while serving a request");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "内部错误，请稍后再试 (internal error)".to_owned(),
                    details: Value::Null,
                    retry_after: None,
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {"code": self.code, "message": self.message, "details": self.details}
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}
