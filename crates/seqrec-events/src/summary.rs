//! [`LogSummary`]: descriptive statistics of an event log (plays per user, skip and repeat
//! rates, popularity curve, sessions), as documented for the simulator's output.

use std::collections::HashSet;
use std::fmt;

use crate::log::EventLog;

/// Plays of at least this many milliseconds count as positive (the paper's rule).
pub const POSITIVE_MS: u32 = 30_000;
/// A gap longer than this (30 minutes) between a user's plays starts a new session.
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// Upper edges of the plays-per-user histogram bins; the last bin is open.
pub const PLAYS_PER_USER_EDGES: [u64; 8] = [10, 25, 50, 100, 150, 250, 500, 1000];

/// Descriptive statistics of an [`EventLog`].
#[derive(Debug, Clone, PartialEq)]
pub struct LogSummary {
    /// Events.
    pub events: usize,
    /// Users with at least one event.
    pub users: usize,
    /// Tracks with at least one play.
    pub tracks_played: usize,
    /// Days from the first to the last event.
    pub days: f64,
    /// Users per plays-per-user bin: `(0,10]`, `(10,25]`, … by [`PLAYS_PER_USER_EDGES`],
    /// then `> 1000`.
    pub plays_per_user_histogram: Vec<usize>,
    /// Plays per user: minimum, 10th percentile, median, 90th percentile, maximum.
    pub plays_per_user_quantiles: [usize; 5],
    /// Share of the plays with a known play time that lasted under [`POSITIVE_MS`].
    pub skip_rate: f64,
    /// Share of the plays with a known play time.
    pub known_play_time: f64,
    /// Share of the plays whose (user, track) pair was played before.
    pub repeat_rate: f64,
    /// Share of the plays going to the most played 1 %, 10 % and 50 % of played tracks.
    pub top_track_shares: [f64; 3],
    /// Share of played tracks with a single play.
    pub single_play_tracks: f64,
    /// Sessions (gaps over [`SESSION_GAP_MS`] split them).
    pub sessions: usize,
    /// Mean plays per session.
    pub plays_per_session: f64,
}

impl LogSummary {
    /// Computes the statistics of `log`.
    pub fn of(log: &EventLog) -> Self {
        let events = log.len();
        let mut per_user: Vec<usize> = (1..=log.users().len() as u32)
            .map(|u| log.user_range(u).len())
            .filter(|&n| n > 0)
            .collect();
        per_user.sort_unstable();
        let mut histogram = vec![0_usize; PLAYS_PER_USER_EDGES.len() + 1];
        for &n in &per_user {
            let bin = PLAYS_PER_USER_EDGES
                .iter()
                .position(|&edge| n as u64 <= edge)
                .unwrap_or(PLAYS_PER_USER_EDGES.len());
            histogram[bin] += 1;
        }
        let quantile = |q: f64| -> usize {
            if per_user.is_empty() {
                0
            } else {
                per_user[((per_user.len() - 1) as f64 * q).round() as usize]
            }
        };

        let (mut known, mut short) = (0_usize, 0_usize);
        let mut repeats = 0_usize;
        let mut sessions = 0_usize;
        let mut seen = HashSet::new();
        for u in 1..=log.users().len() as u32 {
            seen.clear();
            let mut last_time = None;
            for e in log.user_events(u) {
                if let Some(ms) = e.ms_played {
                    known += 1;
                    short += usize::from(ms < POSITIVE_MS);
                }
                if !seen.insert(e.item) {
                    repeats += 1;
                }
                if last_time.is_none_or(|t| e.timestamp_ms.saturating_sub(t) > SESSION_GAP_MS) {
                    sessions += 1;
                }
                last_time = Some(e.timestamp_ms);
            }
        }

        let mut counts: Vec<u64> = log.item_counts().into_iter().filter(|&c| c > 0).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let share = |fraction: f64| -> f64 {
            let k = ((counts.len() as f64 * fraction).ceil() as usize).min(counts.len());
            ratio(counts[..k].iter().sum::<u64>() as usize, events)
        };
        let days = log
            .time_range()
            .map_or(0.0, |(a, b)| (b as f64 - a as f64) / 86_400_000.0);
        Self {
            events,
            users: per_user.len(),
            tracks_played: counts.len(),
            days,
            plays_per_user_histogram: histogram,
            plays_per_user_quantiles: [
                quantile(0.0),
                quantile(0.1),
                quantile(0.5),
                quantile(0.9),
                quantile(1.0),
            ],
            skip_rate: ratio(short, known),
            known_play_time: ratio(known, events),
            repeat_rate: ratio(repeats, events),
            top_track_shares: [share(0.01), share(0.1), share(0.5)],
            single_play_tracks: ratio(counts.iter().filter(|&&c| c == 1).count(), counts.len()),
            sessions,
            plays_per_session: ratio(events, sessions),
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl fmt::Display for LogSummary {
    /// A Markdown rendering (a table of figures and the plays-per-user histogram).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: f64| format!("{:.1} %", 100.0 * x);
        let q = self.plays_per_user_quantiles;
        writeln!(f, "| statistic | value |")?;
        writeln!(f, "| --- | --- |")?;
        writeln!(f, "| events | {} |", self.events)?;
        writeln!(f, "| users | {} |", self.users)?;
        writeln!(f, "| tracks played | {} |", self.tracks_played)?;
        writeln!(f, "| days spanned | {:.1} |", self.days)?;
        writeln!(
            f,
            "| plays per user (min / p10 / median / p90 / max) | {} / {} / {} / {} / {} |",
            q[0], q[1], q[2], q[3], q[4]
        )?;
        writeln!(
            f,
            "| plays with a known play time | {} |",
            pct(self.known_play_time)
        )?;
        writeln!(f, "| skip rate (< 30 s) | {} |", pct(self.skip_rate))?;
        writeln!(
            f,
            "| repeat rate (user played the track before) | {} |",
            pct(self.repeat_rate)
        )?;
        writeln!(
            f,
            "| plays on the top 1 % / 10 % / 50 % of tracks | {} / {} / {} |",
            pct(self.top_track_shares[0]),
            pct(self.top_track_shares[1]),
            pct(self.top_track_shares[2])
        )?;
        writeln!(
            f,
            "| played tracks with a single play | {} |",
            pct(self.single_play_tracks)
        )?;
        writeln!(f, "| sessions (30 min gap) | {} |", self.sessions)?;
        writeln!(f, "| plays per session | {:.1} |", self.plays_per_session)?;
        writeln!(f)?;
        writeln!(f, "| plays per user | users |")?;
        writeln!(f, "| --- | --- |")?;
        let mut lower = 0;
        for (bin, count) in self.plays_per_user_histogram.iter().enumerate() {
            match PLAYS_PER_USER_EDGES.get(bin) {
                Some(&upper) => {
                    writeln!(f, "| ({lower}, {upper}] | {count} |")?;
                    lower = upper;
                }
                None => writeln!(f, "| > {lower} | {count} |")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Event, EventLogBuilder};

    #[test]
    fn counts_skips_repeats_sessions_and_popularity() {
        let mut b = EventLogBuilder::default();
        let (u1, u2) = (b.user_id("a"), b.user_id("b"));
        let (x, y) = (b.item_id("x"), b.item_id("y"));
        let hour = 3_600_000;
        b.push(Event::new(u1, x, 0).with_ms_played(40_000)).unwrap();
        b.push(Event::new(u1, x, 1000).with_ms_played(10_000))
            .unwrap();
        b.push(Event::new(u1, y, 2 * hour)).unwrap();
        b.push(Event::new(u2, x, 0).with_ms_played(30_000)).unwrap();
        let (log, _) = b.finish(true);
        let s = LogSummary::of(&log);
        assert_eq!(s.events, 4);
        assert_eq!(s.users, 2);
        assert_eq!(s.tracks_played, 2);
        assert_eq!(s.known_play_time, 0.75);
        assert!((s.skip_rate - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.repeat_rate, 0.25);
        assert_eq!(s.sessions, 3);
        assert_eq!(s.plays_per_user_histogram[0], 2);
        assert_eq!(s.plays_per_user_quantiles, [1, 1, 3, 3, 3]);
        assert_eq!(s.top_track_shares[0], 0.75);
        assert_eq!(s.single_play_tracks, 0.5);
        let text = s.to_string();
        assert!(text.contains("| (0, 10] | 2 |"), "{text}");
        assert!(text.contains("| > 1000 | 0 |"), "{text}");
        let empty = LogSummary::of(&EventLog::default());
        assert_eq!(empty.events, 0);
        assert_eq!(empty.skip_rate, 0.0);
    }
}
