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
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
            details: Value::Null,
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
            },
            AppError::NotFound { what } => ApiError::not_found(format!("{what} not found")),
            AppError::Forbidden(message) => ApiError {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message,
                details: Value::Null,
            },
            AppError::KeyReused => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "idempotency_key_reused",
                message: error.to_string(),
                details: Value::Null,
            },
            AppError::Conflict(message) => ApiError {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message,
                details: Value::Null,
            },
            AppError::Store(error) => {
                tracing::error!(%error, "store failure while serving a request");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "内部错误，请稍后再试 (internal error)".to_owned(),
                    details: Value::Null,
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
        (self.status, Json(body)).into_response()
    }
}
