//! The periodic report of a region (`onegrid report`, `/api/v1/reports/…`): its figures in
//! Chinese prose, the high-frequency categories, the trend and the ranking of its children,
//! as text, JSON, CSV or an XLSX workbook. The prose is written from the same figures the
//! tables show.

use chrono::Datelike;
use onegrid_domain::metrics::{Figures, Rate};
use onegrid_domain::{Level, RegionCode};
use onegrid_store::Breakdown;
use rust_xlsxwriter::{ColNum, Format, RowNum, Workbook, Worksheet};
use serde::Serialize;

/// The error of [`Report::to_xlsx`].
pub use rust_xlsxwriter::XlsxError;

use crate::figures::{Period, RankBy, Ranked};
use crate::{App, AppResult, ChainLink};

/// One point of the trend: a month (or week) and its counts.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    /// `2026-03` or `2026-W10`.
    pub label: String,
    pub reported: i64,
    pub accepted: i64,
    pub handled: i64,
    pub closed: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub region: ChainLink,
    pub period: Period,
    pub figures: Figures,
    /// The report's sentences, in order.
    pub prose: Vec<String>,
    /// 大类 by cases reported, most first: (code, name, count).
    pub top_categories: Vec<(String, String, i64)>,
    pub trend: Vec<TrendPoint>,
    /// The children ranked by the composite score.
    pub ranking: Vec<Ranked>,
}

/// The default composite: 处置率 40%, 按期结案率 30%, 满意率 30%.
pub fn default_weights() -> Vec<(String, f64)> {
    vec![
        ("handle_rate".to_owned(), 0.4),
        ("on_time_close_rate".to_owned(), 0.3),
        ("satisfaction_rate".to_owned(), 0.3),
    ]
}

/// How a region speaks of itself: 全市, 全区, 全县, 全镇, 全街道, or its name.
fn scope_word(region: &ChainLink) -> String {
    let name = region.name.as_str();
    match region.level {
        Level::Province => "全省".to_owned(),
        Level::City => "全市".to_owned(),
        Level::County | Level::Township => {
            for suffix in ["街道", "区", "县", "市", "镇", "乡", "旗"] {
                if name.ends_with(suffix) {
                    return format!("全{suffix}");
                }
            }
            name.to_owned()
        }
        Level::Village | Level::Grid => name.to_owned(),
    }
}

fn percent(rate: &Rate) -> String {
    match rate.percent() {
        Some(p) => format!("{p}%"),
        None => "—".to_owned(),
    }
}

/// The report's sentences, from the figures alone.
pub fn prose(region: &ChainLink, figures: &Figures, top: &[(String, String, i64)]) -> Vec<String> {
    let scope = scope_word(region);
    let mut sentences = vec![format!(
        "{scope}网格共受理各类有效事件{}件，处置{}件，处置率达{}。",
        figures.accepted,
        figures.handled,
        percent(&figures.handle_rate)
    )];
    sentences.push(format!(
        "立案{}件，结案{}件，结案率{}，按期结案率{}；不予受理{}件，超期{}件。",
        figures.registered,
        figures.closed,
        percent(&figures.close_rate),
        percent(&figures.on_time_close_rate),
        figures.rejected,
        figures.overdue
    ));
    sentences.push(format!(
        "网格内解决率{}，乡镇内解决率{}，返工率{}，群众满意率{}。",
        percent(&figures.grid_settlement_rate),
        percent(&figures.township_settlement_rate),
        percent(&figures.rework_rate),
        percent(&figures.satisfaction_rate)
    ));
    if !top.is_empty() {
        let listed: Vec<String> = top
            .iter()
            .take(3)
            .map(|(_, name, count)| format!("{name}（{count}件）"))
            .collect();
        sentences.push(format!("高发事件类别为{}。", listed.join("、")));
    }
    sentences
}

impl App {
    pub async fn report(&self, code: &RegionCode, period: Period) -> AppResult<Report> {
        let figures = self.region_figures(code, period).await?;
        let ranking = self
            .rank_children(code, period, &RankBy::Composite(default_weights()))
            .await?;
        let days = self
            .breakdown(code.as_str(), Breakdown::Day, period)
            .await?;
        // Months for periods longer than ~two months, ISO weeks otherwise.
        let monthly = (period.to - period.from).num_days() > 62;
        let mut trend: Vec<TrendPoint> = Vec::new();
        for (day, counters) in days {
            let Ok(date) = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
                continue;
            };
            let label = if monthly {
                format!("{}-{:02}", date.year(), date.month())
            } else {
                let week = date.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            };
            match trend.last_mut() {
                Some(last) if last.label == label => {
                    last.reported += counters.reported;
                    last.accepted += counters.accepted;
                    last.handled += counters.handled;
                    last.closed += counters.closed;
                }
                _ => trend.push(TrendPoint {
                    label,
                    reported: counters.reported,
                    accepted: counters.accepted,
                    handled: counters.handled,
                    closed: counters.closed,
                }),
            }
        }
        Ok(Report {
            prose: prose(&figures.region, &figures.figures, &figures.categories),
            region: figures.region,
            period,
            figures: figures.figures,
            top_categories: figures.categories,
            trend,
            ranking,
        })
    }
}

/// One figure's value as a table cell: a count, a rate in [0, 1] (absent without a
/// denominator) or a number of hours (absent without handled cases).
#[derive(Debug, Clone, Copy, PartialEq)]
enum FigureValue {
    Count(i64),
    Rate(Option<f64>),
    Hours(Option<f64>),
}

impl FigureValue {
    /// As the CSV writes it: rates as fractions to four places, hours to two, absent empty.
    fn csv(self) -> String {
        match self {
            FigureValue::Count(n) => n.to_string(),
            FigureValue::Rate(v) => v.map_or(String::new(), |v| format!("{v:.4}")),
            FigureValue::Hours(h) => h.map_or(String::new(), |h| format!("{h:.2}")),
        }
    }
}

/// Every figure with its Chinese name, in the order of the CSV's columns and of the
/// workbook's 概况 table.
fn figure_columns(f: &Figures) -> [(&'static str, FigureValue); 17] {
    use FigureValue::{Count, Hours};
    let rate = |r: &Rate| FigureValue::Rate(r.value);
    [
        ("受理数", Count(f.accepted)),
        ("不予受理数", Count(f.rejected)),
        ("立案数", Count(f.registered)),
        ("派遣数", Count(f.dispatched)),
        ("处置数", Count(f.handled)),
        ("处置率", rate(&f.handle_rate)),
        ("按期处置率", rate(&f.on_time_handle_rate)),
        ("结案数", Count(f.closed)),
        ("结案率", rate(&f.close_rate)),
        ("按期结案率", rate(&f.on_time_close_rate)),
        ("返工率", rate(&f.rework_rate)),
        ("延期率", rate(&f.extension_rate)),
        ("超期数", Count(f.overdue)),
        ("满意率", rate(&f.satisfaction_rate)),
        ("网格内解决率", rate(&f.grid_settlement_rate)),
        ("乡镇内解决率", rate(&f.township_settlement_rate)),
        ("平均处置时长(小时)", Hours(f.mean_hours_to_handle)),
    ]
}

/// The figures the workbook's 排名 sheet shows of each child, by their names above.
const RANKING_FIGURES: [&str; 5] = ["受理数", "处置数", "处置率", "结案率", "满意率"];

/// The number formats of the workbook.
struct Formats {
    title: Format,
    header: Format,
    percent: Format,
    hours: Format,
    score: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new().set_bold(),
            percent: Format::new().set_num_format("0.00%"),
            hours: Format::new().set_num_format("0.00"),
            score: Format::new().set_num_format("0.0"),
        }
    }

    /// Writes one figure as a number a spreadsheet can compute with; an absent rate or mean
    /// leaves the cell empty.
    fn write(
        &self,
        sheet: &mut Worksheet,
        row: RowNum,
        col: ColNum,
        value: FigureValue,
    ) -> Result<(), XlsxError> {
        match value {
            FigureValue::Count(n) => {
                sheet.write_number(row, col, n as f64)?;
            }
            FigureValue::Rate(Some(v)) => {
                sheet.write_number_with_format(row, col, v, &self.percent)?;
            }
            FigureValue::Hours(Some(h)) => {
                sheet.write_number_with_format(row, col, h, &self.hours)?;
            }
            FigureValue::Rate(None) | FigureValue::Hours(None) => {}
        }
        Ok(())
    }

    /// A sheet named `name` with a bold header row, frozen so that it stays in view.
    fn table<'a>(
        &self,
        workbook: &'a mut Workbook,
        name: &str,
        headers: &[&str],
        widths: &[f64],
    ) -> Result<&'a mut Worksheet, XlsxError> {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        sheet.write_row_with_format(0, 0, headers.iter().copied(), &self.header)?;
        for (col, width) in (0..).zip(widths) {
            sheet.set_column_width(col, *width)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(sheet)
    }
}

impl Report {
    /// The report's title: the region and the period.
    fn title(&self) -> String {
        format!(
            "{}网格化服务管理运行情况（{} 至 {}）",
            self.region.name, self.period.from, self.period.to
        )
    }

    /// Plain text: title, prose, then the tables.
    pub fn to_text(&self) -> String {
        let mut text = format!("{}\n\n", self.title());
        for sentence in &self.prose {
            text.push_str(sentence);
        }
        text.push_str("\n\n排名（综合得分 = 处置率40% + 按期结案率30% + 满意率30%）\n");
        for ranked in &self.ranking {
            text.push_str(&format!(
                "{:>3}. {}  受理{} 处置{} 处置率{} 得分{}\n",
                ranked.rank,
                ranked.area.name,
                ranked.figures.accepted,
                ranked.figures.handled,
                percent(&ranked.figures.handle_rate),
                ranked
                    .score
                    .map_or("—".to_owned(), |s| format!("{:.1}", s * 100.0))
            ));
        }
        if !self.trend.is_empty() {
            text.push_str("\n趋势\n");
            for point in &self.trend {
                text.push_str(&format!(
                    "{}  上报{} 受理{} 处置{} 结案{}\n",
                    point.label, point.reported, point.accepted, point.handled, point.closed
                ));
            }
        }
        text
    }

    /// CSV: one row for the region and one per child, every counter and rate.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("区划代码,名称,层级");
        for (name, _) in figure_columns(&self.figures) {
            out.push(',');
            out.push_str(name);
        }
        out.push('\n');
        let mut row = |area: &ChainLink, f: &Figures| {
            out.push_str(&format!("{},{},{}", area.code, area.name, area.level_label));
            for (_, value) in figure_columns(f) {
                out.push(',');
                out.push_str(&value.csv());
            }
            out.push('\n');
        };
        row(&self.region, &self.figures);
        for ranked in &self.ranking {
            row(&ranked.area, &ranked.figures);
        }
        out
    }

    /// An XLSX workbook: 概况 (title, prose and every figure), 排名, 类别 and 趋势. Rates are
    /// numbers formatted as percentages, so that a spreadsheet can compute with them.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let formats = Formats::new();
        let mut workbook = Workbook::new();

        let overview = workbook.add_worksheet();
        overview.set_name("概况")?;
        overview.set_column_width(0, 22)?;
        overview.set_column_width(1, 14)?;
        overview.write_string_with_format(0, 0, self.title(), &formats.title)?;
        let mut row: RowNum = 2;
        for sentence in &self.prose {
            overview.write_string(row, 0, sentence)?;
            row += 1;
        }
        row += 1;
        overview.write_row_with_format(row, 0, ["指标", "数值"], &formats.header)?;
        for (name, value) in figure_columns(&self.figures) {
            row += 1;
            overview.write_string(row, 0, name)?;
            formats.write(overview, row, 1, value)?;
        }

        let mut headers = vec!["名次", "区划代码", "名称"];
        headers.extend(RANKING_FIGURES);
        headers.push("综合得分");
        let ranking = formats.table(
            &mut workbook,
            "排名",
            &headers,
            &[6.0, 14.0, 20.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
        )?;
        for (row, ranked) in (1..).zip(&self.ranking) {
            ranking.write_number(row, 0, ranked.rank as f64)?;
            ranking.write_string(row, 1, &ranked.area.code)?;
            ranking.write_string(row, 2, &ranked.area.name)?;
            let figures = figure_columns(&ranked.figures);
            for (col, wanted) in (3..).zip(RANKING_FIGURES) {
                if let Some((_, value)) = figures.iter().find(|(name, _)| *name == wanted) {
                    formats.write(ranking, row, col, *value)?;
                }
            }
            if let Some(score) = ranked.score {
                // Points out of 100, as the text report shows it.
                let col = 3 + RANKING_FIGURES.len() as ColNum;
                ranking.write_number_with_format(row, col, score * 100.0, &formats.score)?;
            }
        }

        let categories = formats.table(
            &mut workbook,
            "类别",
            &["大类代码", "大类", "件数"],
            &[10.0, 20.0, 10.0],
        )?;
        for (row, (code, name, count)) in (1..).zip(&self.top_categories) {
            categories.write_string(row, 0, code)?;
            categories.write_string(row, 1, name)?;
            categories.write_number(row, 2, *count as f64)?;
        }

        let trend = formats.table(
            &mut workbook,
            "趋势",
            &["期间", "上报", "受理", "处置", "结案"],
            &[12.0, 10.0, 10.0, 10.0, 10.0],
        )?;
        for (row, point) in (1..).zip(&self.trend) {
            trend.write_string(row, 0, &point.label)?;
            for (col, count) in
                (1..).zip([point.reported, point.accepted, point.handled, point.closed])
            {
                trend.write_number(row, col, count as f64)?;
            }
        }

        workbook.save_to_buffer()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use onegrid_domain::metrics::Counters;

    use super::*;

    fn link(code: &str, name: &str, level: Level) -> ChainLink {
        ChainLink {
            code: code.to_owned(),
            name: name.to_owned(),
            level,
            level_label: "区县",
        }
    }

    fn sample() -> Report {
        let counters = Counters {
            accepted: 10,
            handled: 9,
            handled_on_time: 8,
            registered: 10,
            closed: 7,
            closed_on_time: 7,
            handle_seconds: 9 * 5400,
            ..Counters::default()
        };
        let figures = Figures::from_counters(counters);
        let region = link("140702", "榆次区", Level::County);
        let top = vec![("01".to_owned(), "市容环境".to_owned(), 6)];
        Report {
            prose: prose(&region, &figures, &top),
            region,
            period: Period {
                from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                to: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
            },
            figures: figures.clone(),
            top_categories: top,
            trend: vec![TrendPoint {
                label: "2026-W10".to_owned(),
                reported: 11,
                accepted: 10,
                handled: 9,
                closed: 7,
            }],
            ranking: vec![
                Ranked {
                    rank: 1,
                    area: link("140702001", "锦纶街道", Level::Township),
                    score: Some(0.9),
                    figures,
                },
                Ranked {
                    rank: 2,
                    area: link("140702002", "北关街道", Level::Township),
                    score: None,
                    figures: Figures::from_counters(Counters::default()),
                },
            ],
        }
    }

    #[test]
    fn csv_has_a_column_per_figure_and_empty_rates_without_denominator() {
        let csv = sample().to_csv();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "区划代码,名称,层级,受理数,不予受理数,立案数,派遣数,处置数,处置率,按期处置率,结案数,结案率,按期结案率,返工率,延期率,超期数,满意率,网格内解决率,乡镇内解决率,平均处置时长(小时)"
            )
        );
        assert_eq!(
            lines.next(),
            Some(
                "140702,榆次区,区县,10,0,10,0,9,0.9000,0.8889,7,0.7000,1.0000,0.0000,0.0000,0,,0.0000,0.0000,1.50"
            )
        );
        assert_eq!(
            lines.nth(1),
            Some("140702002,北关街道,区县,0,0,0,0,0,,,0,,,,,0,,,,")
        );
    }

    #[test]
    fn xlsx_is_a_zip_holding_four_sheets() {
        let bytes = sample().to_xlsx().unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        let holds = |name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
        for name in [
            "xl/workbook.xml",
            "xl/sharedStrings.xml",
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet4.xml",
        ] {
            assert!(holds(name), "{name} missing");
        }
        assert!(!holds("xl/worksheets/sheet5.xml"));
    }
}
