//! The resident portal (一网全民享): report a matter with a photo and a point picked on the
//! city's map, no account needed (a phone number; the answer shows the tracking code); follow
//! it by its tracking code; rate the result once it is closed; and the published results.
//! Everything shown here is masked on the server; no staff names leave it.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use onegrid_app::App;
use onegrid_app::cases::CaseView;
use onegrid_app::residents::Owner;
use onegrid_domain::Level;
use onegrid_domain::case::{CaseState, Satisfaction};
use onegrid_domain::masking::mask_text;
use onegrid_store::CaseFilter;
use serde::Deserialize;
use serde_json::Value;

use super::layout::{
    Viewer, explain, field_error, form_errors, public_page, public_page_for, shanghai,
    shanghai_text, state_badge,
};
use super::svgmap::{Shape, map};
use super::worker::category_select;
use crate::auth::ClientAddress;
use crate::routes::cases::category_ref;

/// `/` and `/portal`.
pub async fn home() -> Markup {
    public_page(
        "居民门户",
        "/portal",
        html! {
            section.hero {
                h1 { "有事找网格，一网全民享" }
                p { "路灯不亮、占道经营、垃圾堆放、矛盾纠纷……拍张照片，在地图上点一下，就能反映给所在网格。无需注册，留下手机号即可，提交后凭跟踪码查询办理进度并评价。" }
                div.hero-actions {
                    a.button.primary href="/portal/report" { "我要反映" }
                    a.button.secondary href="/portal/track" { "查询进度" }
                    a.button.secondary href="/portal/results" { "办理结果公开" }
                }
            }
            div.steps {
                @for (n, title, text) in [
                    ("1", "反映", "描述问题，拍照，在地图上点选位置"),
                    ("2", "受理派遣", "街道（乡镇）中心受理，派给责任单位"),
                    ("3", "处置核查", "责任单位处置，网格员现场核查"),
                    ("4", "评价", "结案后凭跟踪码评价办理结果"),
                ] {
                    div.step { span.step-n { (n) } h2 { (title) } p { (text) } }
                }
            }
        },
    )
}

async fn city_map(app: &App) -> Markup {
    // The city whose counties have outlines: the one this deployment serves.
    let counties = app.store().areas(Level::County).await.unwrap_or_default();
    let city = counties
        .iter()
        .filter_map(|area| area.code.parent())
        .min_by_key(ToString::to_string);
    let features: Vec<Value> = match city {
        Some(code) => app.children_outlines(&code).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let shapes: Vec<Shape> = features
        .iter()
        .map(|feature| Shape {
            geometry: &feature["geometry"],
            label: feature["properties"]["name"].as_str().map(str::to_owned),
            code: feature["properties"]["code"].as_str().map(str::to_owned),
            class: "area-shape",
        })
        .collect();
    map(&shapes, None, true, "点击地图选择事发位置")
}

/// `/portal/report`.
pub async fn report_form(State(app): State<App>, viewer: Option<Viewer>) -> Markup {
    let city = city_map(&app).await;
    public_page_for(
        "我要反映",
        "/portal/report",
        viewer.as_ref(),
        html! {
            h1 { "我要反映" }
            section #report-result.card hidden role="status" aria-live="polite" {}
            div #queue-status.queue-status hidden role="status" {}
            form #report-form.card.report-grid data-report="resident" data-offline="true" novalidate {
                div.report-fields {
                    div.field {
                        label for="description" { "问题描述（必填）" }
                        textarea #description name="description" rows="4" required aria-describedby="err-description"
                            placeholder="请写清楚发生了什么、具体地点" {}
                        p.field-error #err-description role="alert" hidden {}
                    }
                    div.field {
                        label for="category" { "问题类别（选填）" }
                        (category_select(&app, "category", false))
                    }
                    div.field {
                        label for="photo" { "照片（选填）" }
                        input #photo name="photo" type="file" accept="image/*" capture="environment";
                        div.thumbs #photo-preview {}
                    }
                    div.field {
                        label for="name" { "称呼（选填）" }
                        input #name name="name" autocomplete="name";
                    }
                    div.field {
                        label for="phone" { "手机号码（必填，仅用于回访，公开时隐藏）" }
                        input #phone name="phone" type="tel" inputmode="tel" autocomplete="tel" required aria-describedby="err-phone";
                        p.field-error #err-phone role="alert" hidden {}
                    }
                }
                fieldset.field.report-map {
                    legend { "事发位置（必填）" }
                    p.hint { "在地图上点击事发地点，或使用手机定位；用键盘时可先选中地图，再用方向键移动位置（按住 Shift 细调）。" }
                    div.map-frame { (city) }
                    button.secondary type="button" data-locate="true" { "使用我的位置" }
                    p.hint #position-text role="status" { "尚未选择位置" }
                    input #lon type="hidden" name="lon";
                    input #lat type="hidden" name="lat";
                    p.field-error #err-place role="alert" hidden {}
                }
                p.form-error #err-form role="alert" hidden {}
                button.primary.wide type="submit" { "提交" }
            }
        },
    )
}

fn track_lookup_form(code: &str, errors: &[(Option<&'static str>, String)]) -> Markup {
    html! {
        form.card.track-form method="post" action="/portal/track"
            hx-post="/portal/track" hx-target="main" hx-select="main" hx-swap="outerHTML" {
            div.field {
                label for="code" { "跟踪码" }
                input #code name="code" value=(code) required autocomplete="off" placeholder="XXXX-XXXX-XXXX-XXXX" aria-describedby="err-code";
                (field_error(errors, "code"))
            }
            button.primary type="submit" { "查询" }
        }
    }
}

/// `GET /portal/track`.
pub async fn track_form(viewer: Option<Viewer>) -> Markup {
    public_page_for(
        "进度查询",
        "/portal/track",
        viewer.as_ref(),
        html! {
            h1 { "进度查询" }
            p.muted { "输入提交反映时得到的跟踪码。跟踪码相当于查询密码，请勿告诉他人。" }
            (track_lookup_form("", &[]))
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct TrackForm {
    code: String,
}

fn progress(
    app: &App,
    code: &str,
    view: &CaseView,
    rating_errors: &[(Option<&'static str>, String)],
    rated: bool,
) -> Markup {
    let case = &view.case;
    let category = case.category.as_deref().and_then(|c| category_ref(app, c));
    html! {
        section.card #progress data-state=(case.state.as_str()) {
            div.case-head {
                div { p.eyebrow { "事件编号" } h2 { (case.number) } }
                div.badges { (state_badge(case.state)) }
            }
            @if rated { p.flash role="status" { "感谢您的评价！" } }
            p.description { (mask_text(&case.description)) }
            dl.facts {
                dt { "类别" } dd { @if let Some(c) = category { (c.major) " / " (c.name) } @else { "待分类" } }
                dt { "反映时间" } dd { (shanghai(case.created_at)) }
                @if let Some(s) = case.satisfaction { dt { "您的评价" } dd { (s.label()) } }
            }
            h3 { "办理进度" }
            ol.timeline {
                @for record in view.records.iter().rev() {
                    li {
                        div.when { (shanghai_text(&record.at)) }
                        div.what { strong { (act_label(&record.act)) } }
                    }
                }
            }
            // A refused rating of a case with no rating form (not closed, or rated already).
            @if case.state != CaseState::Closed { (form_errors(rating_errors, &[])) }
            @if case.state == CaseState::Closed {
                form.rate-form method="post" action="/portal/track/rate"
                    hx-post="/portal/track/rate" hx-target="main" hx-select="main" hx-swap="outerHTML" {
                    input type="hidden" name="code" value=(code);
                    fieldset.field {
                        legend { "对办理结果是否满意？" }
                        @for (value, label) in [("satisfied", "满意"), ("basically_satisfied", "基本满意"), ("unsatisfied", "不满意")] {
                            label.choice { input type="radio" name="satisfaction" value=(value) required; (label) }
                        }
                        (field_error(rating_errors, "satisfaction"))
                    }
                    div.field {
                        label for="rate-note" { "意见建议（选填）" }
                        textarea #rate-note name="note" rows="2" {}
                    }
                    (form_errors(rating_errors, &["satisfaction"]))
                    button.primary type="submit" { "提交评价" }
                }
            }
        }
    }
}

fn act_label(act: &str) -> &'static str {
    serde_json::from_value::<onegrid_domain::case::Act>(Value::String(act.to_owned()))
        .map_or("上报", onegrid_domain::case::Act::label)
}

/// `POST /portal/track`: the progress of the case a tracking code was given for.
pub async fn track(
    State(app): State<App>,
    viewer: Option<Viewer>,
    ClientAddress(address): ClientAddress,
    Form(form): Form<TrackForm>,
) -> Response {
    let viewer = viewer.as_ref();
    let code = form.code.trim().to_owned();
    match app.case_by_tracking_code(&code, &address).await {
        Ok(view) => public_page_for(
            "进度查询",
            "/portal/track",
            viewer,
            html! { h1 { "进度查询" } (track_lookup_form(&code, &[])) (progress(&app, &code, &view, &[], false)) },
        )
        .into_response(),
        Err(error) => {
            let (_, message) = explain(&error);
            let message = match error {
                onegrid_app::AppError::NotFound { .. } => "没有找到这个跟踪码，请核对后重试".to_owned(),
                _ => message,
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                public_page_for(
                    "进度查询",
                    "/portal/track",
                    viewer,
                    html! { h1 { "进度查询" } (track_lookup_form(&code, &[(Some("code"), message)])) },
                ),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RateForm {
    code: String,
    satisfaction: Option<String>,
    #[serde(default)]
    note: String,
}

/// `POST /portal/track/rate`: the resident rates their closed case.
pub async fn rate(
    State(app): State<App>,
    viewer: Option<Viewer>,
    ClientAddress(address): ClientAddress,
    Form(form): Form<RateForm>,
) -> Response {
    let viewer = viewer.as_ref();
    let code = form.code.trim().to_owned();
    let satisfaction = match form.satisfaction.as_deref() {
        Some("satisfied") => Some(Satisfaction::Satisfied),
        Some("basically_satisfied") => Some(Satisfaction::BasicallySatisfied),
        Some("unsatisfied") => Some(Satisfaction::Unsatisfied),
        _ => None,
    };
    let mut errors = Vec::new();
    let mut rated = false;
    match satisfaction {
        None => errors.push((Some("satisfaction"), "请选择满意程度".to_owned())),
        Some(satisfaction) => {
            let owner = Owner::TrackingCode {
                code: &code,
                address: &address,
            };
            match app
                .rate_own_case(owner, None, satisfaction, &form.note)
                .await
            {
                Ok(_) => rated = true,
                Err(error) => errors.push(explain(&error)),
            }
        }
    }
    let view = match app.case_by_tracking_code(&code, &address).await {
        Ok(view) => view,
        Err(error) => {
            let (_, message) = explain(&error);
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                public_page_for("进度查询", "/portal/track", viewer, html! { h1 { "进度查询" } (track_lookup_form(&code, &[(Some("code"), message)])) }),
            )
                .into_response();
        }
    };
    let status = if rated {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        public_page_for(
            "进度查询",
            "/portal/track",
            viewer,
            html! { h1 { "进度查询" } (progress(&app, &code, &view, &errors, rated)) },
        ),
    )
        .into_response()
}

/// `/portal/results`: closed cases, published with personal data masked.
pub async fn results(State(app): State<App>) -> Result<Markup, super::layout::PageError> {
    let filter = CaseFilter {
        states: vec![CaseState::Closed, CaseState::Evaluated],
        ..CaseFilter::default()
    };
    let page = app.list_cases(&filter, None, 50).await?;
    let atlas = app.atlas();
    Ok(public_page(
        "办理结果公开",
        "/portal/results",
        html! {
            h1 { "办理结果公开" }
            p.muted { "最近办结的事件。反映人姓名、电话等个人信息已隐藏。" }
            ul.results {
                @for case in &page.cases {
                    @let category = case.category.as_deref().and_then(|c| category_ref(&app, c));
                    @let place: Vec<String> = case.chain.iter().rev().filter_map(|c| atlas.region(c)).filter(|r| matches!(r.level(), Level::County | Level::Township)).map(|r| r.name.clone()).collect();
                    li.card.result data-number=(case.number) {
                        div.row-top {
                            span.number { (case.number) }
                            (state_badge(case.state))
                            @if let Some(s) = case.satisfaction { span.badge.tone-done { "群众评价：" (s.label()) } }
                        }
                        p { (mask_text(&case.description)) }
                        div.row-meta {
                            @if let Some(c) = category { span { (c.major) "/" (c.name) } }
                            span { (place.join(" › ")) }
                            span { "更新于 " (shanghai(case.updated_at)) }
                        }
                    }
                }
                @if page.cases.is_empty() { li.muted { "暂无公开的办理结果" } }
            }
        },
    ))
}
