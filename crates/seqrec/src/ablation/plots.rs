//! Plots of an ablation (PNG and SVG, drawn with `plotters`): F1@k against k for every
//! model, and F1@10 per history-length cohort as bars with interval whiskers.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use seqrec_eval::{Metric, MetricKey, ProfileReport};

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
            format!("F1@k with 95 % intervals ({users} users)"),
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
            format!("F1@{k} by history length (plays in the history window), 95 % intervals"),
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
