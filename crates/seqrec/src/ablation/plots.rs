//! Plots of an ablation (PNG and SVG, drawn with `plotters`): F1@k against k for every
//! model, and F1@10 per history-length cohort as bars with interval whiskers.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use seqrec_eval::{HistoryPolicy, Metric, MetricKey, ProfileReport};

use super::AblationError;
use super::output::ALL_USERS;

const SIZE: (u32, u32) = (960, 600);
const FONT: &str = "sans-serif";

/// Text is rendered with a font compiled into the program, so that plots need no system
/// fonts (CI machines and containers often have none).
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font bytes are a known-good TrueType file; a failure would only lose labels.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

fn f1(report: &ProfileReport, model: &str, group: &str, k: usize) -> Option<(f64, f64, f64)> {
    let key = MetricKey {
        metric: Metric::F1,
        k: Some(k),
    };
    report
        .get(model, group, key)
        .map(|r| (r.ci_lower, r.mean, r.ci_upper))
}

/// What a caption adds for the discovery view.
fn view(r: &ProfileReport) -> &'static str {
    match r.history {
        HistoryPolicy::Allow => "",
        HistoryPolicy::Exclude => ", history tracks excluded",
    }
}

fn color(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 8] = [
        RGBColor(99, 99, 99),
        RGBColor(170, 170, 170),
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    COLORS[i % COLORS.len()]
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_f1_at_k<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    r: &ProfileReport,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let ks = &r.ks;
    let k_max = ks.iter().copied().max().unwrap_or(200) as f64;
    let y_max = r
        .models
        .iter()
        .flat_map(|m| ks.iter().filter_map(|&k| f1(r, &m.name, ALL_USERS, k)))
        .map(|(_, _, hi)| hi)
        .fold(0.0f64, f64::max)
        * 1.15;
    let users = r
        .groups
        .iter()
        .find(|g| g.label == ALL_USERS)
        .map_or(0, |g| g.users);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("F1@k with 95 % intervals ({users} users{})", view(r)),
            (FONT, 24),
        )
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..k_max * 1.05, 0f64..y_max.max(1e-6))?;
    chart
        .configure_mesh()
        .x_desc("k")
        .y_desc("F1@k")
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .draw()?;
    let n = r.models.len() as f64;
    for (i, model) in r.models.iter().enumerate() {
        let c = color(i);
        // Models are shifted a little along k so that their whiskers do not hide each other.
        let shift = (i as f64 - (n - 1.0) / 2.0) * k_max * 0.006;
        let points: Vec<(f64, (f64, f64, f64))> = ks
            .iter()
            .filter_map(|&k| f1(r, &model.name, ALL_USERS, k).map(|v| (k as f64 + shift, v)))
            .collect();
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|&(x, (_, m, _))| (x, m)),
                c.stroke_width(2),
            ))?
            .label(model.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart.draw_series(
            points
                .iter()
                .map(|&(x, (lo, m, hi))| ErrorBar::new_vertical(x, lo, m, hi, c.filled(), 8)),
        )?;
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()
}

fn draw_cohorts<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    r: &ProfileReport,
    k: usize,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let groups: Vec<_> = r
        .groups
        .iter()
        .filter(|g| g.label != ALL_USERS && g.users > 0)
        .collect();
    let y_max = r
        .models
        .iter()
        .flat_map(|m| groups.iter().filter_map(|g| f1(r, &m.name, &g.label, k)))
        .map(|(_, _, hi)| hi)
        .fold(0.0f64, f64::max)
        .max(1e-6)
        * 1.2;
    let label_y = -y_max * 0.05;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "F1@{k} by history length (plays in the history window), 95 % intervals{}",
                view(r)
            ),
            (FONT, 22),
        )
        .margin(20)
        .x_label_area_size(10)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..groups.len().max(1) as f64, label_y * 2.0..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(format!("F1@{k}"))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .draw()?;
    let m = r.models.len().max(1) as f64;
    let width = 0.8 / m;
    for (i, model) in r.models.iter().enumerate() {
        let c = color(i);
        let bars: Vec<(f64, (f64, f64, f64))> = groups
            .iter()
            .enumerate()
            .filter_map(|(g, group)| {
                f1(r, &model.name, &group.label, k).map(|v| (g as f64 + 0.1 + width * i as f64, v))
            })
            .collect();
        chart
            .draw_series(bars.iter().map(|&(x, (_, mean, _))| {
                Rectangle::new([(x, 0.0), (x + width * 0.9, mean)], c.filled())
            }))?
            .label(model.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], c.filled()));
        chart.draw_series(bars.iter().map(|&(x, (lo, mean, hi))| {
            ErrorBar::new_vertical(x + width * 0.45, lo, mean, hi, BLACK.stroke_width(1), 6)
        }))?;
    }
    chart.draw_series(groups.iter().enumerate().map(|(g, group)| {
        Text::new(
            format!("{} (n = {})", group.label, group.users),
            (g as f64 + 0.3, label_y),
            (FONT, 16).into_font(),
        )
    }))?;
    chart
        .configure_series_labels()
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()
}

/// Draws one figure as `<stem>.png` and `<stem>.svg`.
fn both(
    stem: &Path,
    draw_png: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult<BitMapBackend<'_>>,
    draw_svg: impl FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult<SVGBackend<'_>>,
) -> Result<Vec<PathBuf>, AblationError> {
    register_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let fail = |path: &Path, message: String| AblationError::Plot {
        path: path.to_path_buf(),
        message,
    };
    draw_png(BitMapBackend::new(&png, SIZE).into_drawing_area())
        .map_err(|e| fail(&png, e.to_string()))?;
    draw_svg(SVGBackend::new(&svg, SIZE).into_drawing_area())
        .map_err(|e| fail(&svg, e.to_string()))?;
    Ok(vec![png, svg])
}

/// F1@k against k, one line per model with interval whiskers: `<stem>.png`, `<stem>.svg`.
pub fn f1_at_k(report: &ProfileReport, stem: &Path) -> Result<Vec<PathBuf>, AblationError> {
    both(
        stem,
        |root| draw_f1_at_k(root, report),
        |root| draw_f1_at_k(root, report),
    )
}

/// F1 at the smallest cutoff per history-length cohort, bars with whiskers.
pub fn cohorts(report: &ProfileReport, stem: &Path) -> Result<Vec<PathBuf>, AblationError> {
    let k = report.ks.iter().copied().min().unwrap_or(10);
    both(
        stem,
        |root| draw_cohorts(root, report, k),
        |root| draw_cohorts(root, report, k),
    )
}

/// One trained model's learning curve: `(step, seconds, validation NDCG@10)` points.
pub struct Curve<'a> {
    /// The model's name.
    pub name: &'a str,
    /// Its validations, in order.
    pub points: Vec<(f64, f64, f64)>,
}

fn draw_curves<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    curves: &[Curve<'_>],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let y_max = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.2))
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.15;
    for (panel, by_seconds) in panels.iter().zip([false, true]) {
        let x = |p: &(f64, f64, f64)| if by_seconds { p.1 } else { p.0 };
        let x_max = curves
            .iter()
            .flat_map(|c| c.points.iter().map(x))
            .fold(0.0f64, f64::max)
            .max(1.0)
            * 1.05;
        let mut chart = ChartBuilder::on(panel)
            .caption(
                if by_seconds {
                    "Validation NDCG@10 against training time"
                } else {
                    "Validation NDCG@10 against steps"
                },
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc(if by_seconds { "seconds" } else { "steps" })
            .y_desc("NDCG@10")
            .label_style((FONT, 14))
            .draw()?;
        for (i, curve) in curves.iter().enumerate() {
            // Colours as in the F1 plots: the baselines without a curve take the first ones.
            let style = color(i + 2).stroke_width(2);
            let line: Vec<(f64, f64)> = curve.points.iter().map(|p| (x(p), p.2)).collect();
            chart
                .draw_series(LineSeries::new(line.clone(), style))?
                .label(curve.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart.draw_series(line.into_iter().map(|p| Circle::new(p, 3, style.filled())))?;
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
    }
    root.present()
}

/// Validation NDCG@10 of every trained model against steps (left) and seconds (right):
/// `<stem>.png`, `<stem>.svg`.
pub fn learning_curves(curves: &[Curve<'_>], stem: &Path) -> Result<Vec<PathBuf>, AblationError> {
    both(
        stem,
        |root| draw_curves(root, curves),
        |root| draw_curves(root, curves),
    )
}
