//! The runbook's "Metrics to Track", computed from the case file's declared times: each metric is
//! met, missed, or unknown (a time is missing or the pair is out of order), never guessed.

use crate::model::case::DeclaredTimes;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Which runbook metric.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Time to detect < 24 h: detected − compromise_estimated.
    TimeToDetect,
    /// Time to contain < 4 h: contained − detected.
    TimeToContain,
    /// Time to recover < 48 h: recovered − detected.
    TimeToRecover,
    /// Post-incident review within 1 week: reviewed − recovered.
    PostIncidentReview,
}

impl MetricKind {
    pub const ALL: [MetricKind; 4] = [
        MetricKind::TimeToDetect,
        MetricKind::TimeToContain,
        MetricKind::TimeToRecover,
        MetricKind::PostIncidentReview,
    ];

    pub fn title(self) -> &'static str {
        match self {
            MetricKind::TimeToDetect => "Time to detect",
            MetricKind::TimeToContain => "Time to contain",
            MetricKind::TimeToRecover => "Time to recover",
            MetricKind::PostIncidentReview => "Post-incident review",
        }
    }

    /// The runbook's target, as written there.
    pub fn target_text(self) -> &'static str {
        match self {
            MetricKind::TimeToDetect => "< 24 hours",
            MetricKind::TimeToContain => "< 4 hours",
            MetricKind::TimeToRecover => "< 48 hours",
            MetricKind::PostIncidentReview => "Within 1 week",
        }
    }

    /// The target as a limit, and whether reaching it exactly still counts as met ("within").
    pub(crate) fn limit(self) -> (Duration, bool) {
        match self {
            MetricKind::TimeToDetect => (Duration::hours(24), false),
            MetricKind::TimeToContain => (Duration::hours(4), false),
            MetricKind::TimeToRecover => (Duration::hours(48), false),
            MetricKind::PostIncidentReview => (Duration::weeks(1), true),
        }
    }

    /// The two declared times (case.toml `[times]` keys) the metric is measured between.
    pub fn events(self) -> (&'static str, &'static str) {
        match self {
            MetricKind::TimeToDetect => ("compromise_estimated", "detected"),
            MetricKind::TimeToContain => ("detected", "contained"),
            MetricKind::TimeToRecover => ("detected", "recovered"),
            MetricKind::PostIncidentReview => ("recovered", "reviewed"),
        }
    }
}

/// The outcome of one metric.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum MetricVerdict {
    Met {
        elapsed_seconds: i64,
    },
    Missed {
        elapsed_seconds: i64,
    },
    /// The metric cannot be computed; `reason` says why in plain words.
    Unknown {
        reason: String,
    },
}

impl MetricVerdict {
    pub fn label(&self) -> &'static str {
        match self {
            MetricVerdict::Met { .. } => "met",
            MetricVerdict::Missed { .. } => "missed",
            MetricVerdict::Unknown { .. } => "unknown",
        }
    }
}

/// One metric with the two events it was computed from.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub kind: MetricKind,
    pub from_event: &'static str,
    pub from: Option<DateTime<Utc>>,
    pub to_event: &'static str,
    pub to: Option<DateTime<Utc>>,
    pub verdict: MetricVerdict,
}

fn declared(times: &DeclaredTimes, name: &str) -> Option<DateTime<Utc>> {
    times
        .entries()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .and_then(|(_, _, t)| t)
}

/// Computes one metric from the declared times.
pub fn compute(kind: MetricKind, times: &DeclaredTimes) -> Metric {
    let (from_event, to_event) = kind.events();
    let from = declared(times, from_event);
    let to = declared(times, to_event);
    let verdict = match (from, to) {
        (Some(a), Some(b)) if b < a => MetricVerdict::Unknown {
            reason: format!("{to_event} ({b}) is before {from_event} ({a}); check the case file"),
        },
        (Some(a), Some(b)) => {
            let elapsed = b - a;
            let (limit, inclusive) = kind.limit();
            let met = if inclusive {
                elapsed <= limit
            } else {
                elapsed < limit
            };
            let elapsed_seconds = elapsed.num_seconds();
            if met {
                MetricVerdict::Met { elapsed_seconds }
            } else {
                MetricVerdict::Missed { elapsed_seconds }
            }
        }
        (a, b) => {
            let mut missing = Vec::new();
            if a.is_none() {
                missing.push(from_event);
            }
            if b.is_none() {
                missing.push(to_event);
            }
            MetricVerdict::Unknown {
                reason: format!("the case file does not declare {}", missing.join(" or ")),
            }
        }
    };
    Metric {
        kind,
        from_event,
        from,
        to_event,
        to,
        verdict,
    }
}

/// All four runbook metrics, in the runbook's order.
pub fn compute_all(times: &DeclaredTimes) -> Vec<Metric> {
    MetricKind::ALL.iter().map(|k| compute(*k, times)).collect()
}

/// `1 d 2 h 3 min` style duration for reports (seconds shown only under a minute).
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} d"));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if parts.is_empty() {
        parts.push(format!("{} s", s % 60));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn metrics_follow_the_runbook_targets() {
        let times = DeclaredTimes {
            compromise_estimated: t("2026-11-18T00:00:00Z"),
            detected: t("2026-11-20T09:00:00Z"),
            contained: t("2026-11-20T11:00:00Z"),
            recovered: None,
            reviewed: t("2026-11-27T09:00:00Z"),
            ..Default::default()
        };
        let m = compute_all(&times);
        assert_eq!(
            m[0].verdict,
            MetricVerdict::Missed {
                elapsed_seconds: 57 * 3600
            }
        );
        assert_eq!(
            m[1].verdict,
            MetricVerdict::Met {
                elapsed_seconds: 2 * 3600
            }
        );
        assert!(
            matches!(&m[2].verdict, MetricVerdict::Unknown { reason } if reason.contains("recovered"))
        );
        assert!(
            matches!(&m[3].verdict, MetricVerdict::Unknown { reason } if reason.contains("recovered"))
        );
    }

    #[test]
    fn boundaries_and_order() {
        let exactly_4h = DeclaredTimes {
            detected: t("2026-11-20T09:00:00Z"),
            contained: t("2026-11-20T13:00:00Z"),
            ..Default::default()
        };
        assert_eq!(
            compute(MetricKind::TimeToContain, &exactly_4h)
                .verdict
                .label(),
            "missed"
        );
        let week = DeclaredTimes {
            recovered: t("2026-11-20T09:00:00Z"),
            reviewed: t("2026-11-27T09:00:00Z"),
            ..Default::default()
        };
        assert_eq!(
            compute(MetricKind::PostIncidentReview, &week)
                .verdict
                .label(),
            "met"
        );
        let backwards = DeclaredTimes {
            detected: t("2026-11-20T09:00:00Z"),
            contained: t("2026-11-20T08:00:00Z"),
            ..Default::default()
        };
        assert_eq!(
            compute(MetricKind::TimeToContain, &backwards)
                .verdict
                .label(),
            "unknown"
        );
        assert_eq!(human_duration(57 * 3600), "2 d 9 h");
    }
}
