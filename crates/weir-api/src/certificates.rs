//! `/api/weir/certificates` (weir's own endpoint, for the dashboard): every configured
//! certificate with its names and expiry, `warning` when it expires within 14 days,
//! `disabled` when it is expired or did not load.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::model::{View, rfc3339, status_str};
use crate::query::Params;

/// Days before expiry from which a certificate is a warning (the alert rule's threshold).
const WARN_DAYS: i64 = 14;

impl View<'_> {
    /// The certificates, problems first then soonest expiry first, filtered by `search`
    /// (names, file) and `status`.
    pub(crate) fn certificates(&self, p: &Params) -> Vec<(String, Value)> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let mut out: Vec<(u8, i64, String, Value)> = Vec::new();
        for c in &self.report.certificates {
            let mut errors = c.errors.clone();
            let mut status = status_str(c.status);
            let mut v = json!({
                "certFile": c.cert_file,
                "provider": c.provider,
                "default": c.default,
            });
            let (name, not_after) = match &c.info {
                Some(i) => {
                    let name = if i.common_name.is_empty() {
                        i.sans
                            .first()
                            .cloned()
                            .unwrap_or_else(|| c.cert_file.clone())
                    } else {
                        i.common_name.clone()
                    };
                    let days_left = (i.not_after - now).div_euclid(86_400);
                    if i.not_after <= now {
                        status = "disabled";
                        errors.push(format!("expired on {}", stamp(i.not_after)));
                    } else if days_left < WARN_DAYS && status == "enabled" {
                        status = "warning";
                        errors.push(format!(
                            "expires in {days_left} day(s), on {}",
                            stamp(i.not_after)
                        ));
                    }
                    v["cn"] = i.common_name.clone().into();
                    v["sans"] = json!(i.sans);
                    v["serial"] = i.serial.clone().into();
                    v["notBefore"] = stamp(i.not_before).into();
                    v["notAfter"] = stamp(i.not_after).into();
                    v["daysLeft"] = days_left.into();
                    (name, i.not_after)
                }
                None => (c.cert_file.clone(), i64::MIN),
            };
            v["name"] = name.clone().into();
            v["status"] = status.into();
            if !errors.is_empty() {
                v["error"] = json!(errors);
            }
            let sans = c.info.as_ref().map_or(String::new(), |i| i.sans.join(" "));
            let searchable = format!("{sans} {}", c.cert_file);
            if !p.keeps(&name, &searchable, status) {
                continue;
            }
            let rank = match status {
                "disabled" => 0,
                "warning" => 1,
                _ => 2,
            };
            out.push((rank, not_after, name, v));
        }
        out.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
        out.into_iter().map(|(_, _, n, v)| (n, v)).collect()
    }
}

fn stamp(secs: i64) -> String {
    rfc3339(u64::try_from(secs).unwrap_or(0))
}
