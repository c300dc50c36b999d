//! What the translation could not do, naming the object and the field.

use std::fmt;

pub use weir_config::Severity;

use crate::set::ObjectRef;

/// One finding about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error (the element it names is not served) or warning (served, with a difference).
    pub severity: Severity,
    /// The object.
    pub object: ObjectRef,
    /// Field path inside the object, e.g. `spec.routes[0].services[1].port`; empty for the
    /// object as a whole.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// An error.
    pub fn error(object: &ObjectRef, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            object: object.clone(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// A warning.
    pub fn warning(
        object: &ObjectRef,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(object, field, message)
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.object)?;
        if !self.field.is_empty() {
            write!(f, " {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Collects problems for one object.
pub(crate) struct Sink<'a> {
    pub object: ObjectRef,
    pub out: &'a mut Vec<Problem>,
}

impl Sink<'_> {
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.out.push(Problem::error(&self.object, field, message));
    }

    pub fn warning(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.out
            .push(Problem::warning(&self.object, field, message));
    }
}
