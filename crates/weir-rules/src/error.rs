//! The error type shared by the parser, the matcher compiler and [`go_regex`](crate::go_regex).

use std::fmt;

/// A rule (or regex) error pointing at a byte offset of the source.
///
/// `Display` renders `at column 12: unknown matcher `Hots`` followed by the offending
/// line of the rule and a caret under the position, so it can go straight into a log line
/// or a config validation report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Byte offset into the source where the problem was found.
    pub position: usize,
    /// Human-readable description, without position.
    pub message: String,
    /// The source the position refers to (kept for the caret rendering).
    src: String,
}

impl RuleError {
    /// Builds an error at `position` of `src`.
    pub fn new(src: &str, position: usize, message: impl Into<String>) -> Self {
        RuleError {
            position: position.min(src.len()),
            message: message.into(),
            src: src.to_owned(),
        }
    }

    /// The source text the error refers to.
    pub fn source_text(&self) -> &str {
        &self.src
    }

    /// 1-based (line, column) of the position, counted in characters.
    pub fn line_column(&self) -> (usize, usize) {
        let (start, line_no) = self.line_start();
        let upto = self.src.get(start..self.position).unwrap_or("");
        (line_no, upto.chars().count() + 1)
    }

    /// Byte offset where the line holding the position starts, and its 1-based number.
    fn line_start(&self) -> (usize, usize) {
        let before = self.src.get(..self.position).unwrap_or("");
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (start, before.matches('\n').count() + 1)
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line_no, col) = self.line_column();
        if self.src.contains('\n') {
            write!(f, "at line {line_no}, column {col}: {}", self.message)?;
        } else {
            write!(f, "at column {col}: {}", self.message)?;
        }
        if self.src.is_empty() {
            return Ok(());
        }
        let (start, _) = self.line_start();
        let rest = self.src.get(start..).unwrap_or("");
        let line = rest.split('\n').next().unwrap_or("");
        // Keep tabs in the caret line so the caret lines up under tab-indented rules.
        let pad: String = self
            .src
            .get(start..self.position)
            .unwrap_or("")
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "\n  {line}\n  {pad}^")
    }
}

impl std::error::Error for RuleError {}
