//! The access log's fields, with Traefik's names, and the set a configuration keeps.

/// Declares [`Field`], its names and its JSON keys (`"Name":`) from one list, so the
/// three cannot disagree.
macro_rules! fields {
    ($($field:ident),* $(,)?) => {
        /// A field of an access log line, declared in the byte order of its name (the
        /// order Traefik's JSON lines have).
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub(crate) enum Field {
            $($field),*
        }

        /// Every field's name, indexed by [`Field`].
        pub(crate) const NAMES: &[&str] = &[$(stringify!($field)),*];

        /// Every field's JSON key with its quotes and colon, indexed by [`Field`].
        pub(crate) const KEYS: &[&str] = &[$(concat!("\"", stringify!($field), "\":")),*];
    };
}

fields!(
    ClientAddr,
    ClientHost,
    ClientPort,
    ClientUsername,
    DownstreamContentSize,
    DownstreamStatus,
    Duration,
    GzipRatio,
    OriginContentSize,
    OriginDuration,
    OriginStatus,
    Overhead,
    RequestAddr,
    RequestContentSize,
    RequestCount,
    RequestHost,
    RequestMethod,
    RequestPath,
    RequestPort,
    RequestProtocol,
    RequestScheme,
    RetryAttempts,
    RouterName,
    ServiceAddr,
    ServiceName,
    ServiceURL,
    StartLocal,
    StartUTC,
    TLSCipher,
    TLSClientSubject,
    TLSVersion,
    entryPointName,
);

impl Field {
    /// The JSON key, `"Name":`.
    pub(crate) fn key(self) -> &'static str {
        KEYS[self as usize]
    }
}

/// The fields a configuration keeps, one bit per [`Field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldSet(u64);

impl FieldSet {
    /// Resolves `fields.defaultMode` (`keep` unless `drop`) and `fields.names` (matched
    /// without regard to case; `None`, a mode other than keep or drop, means the default);
    /// names that are not fields are ignored, as Traefik does.
    pub(crate) fn new(keep_by_default: bool, modes: &[(String, Option<bool>)]) -> FieldSet {
        let mut bits = 0u64;
        for (i, name) in NAMES.iter().enumerate() {
            let keep = modes
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, keep)| *keep)
                .unwrap_or(keep_by_default);
            if keep {
                bits |= 1 << i;
            }
        }
        FieldSet(bits)
    }

    /// Whether `field` is written.
    pub(crate) fn has(self, field: Field) -> bool {
        self.0 & (1 << field as u8) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_declared_in_byte_order() {
        let mut sorted = NAMES.to_vec();
        sorted.sort_unstable();
        assert_eq!(NAMES, sorted.as_slice());
        assert!(NAMES.len() <= 64, "a FieldSet holds 64 fields");
        assert_eq!(Field::RequestPath.key(), "\"RequestPath\":");
    }

    #[test]
    fn modes_override_the_default() {
        let set = FieldSet::new(true, &[("ClientPort".into(), Some(false))]);
        assert!(!set.has(Field::ClientPort));
        assert!(set.has(Field::ClientHost));
        let set = FieldSet::new(false, &[("RouterName".into(), Some(true))]);
        assert!(set.has(Field::RouterName));
        assert!(!set.has(Field::entryPointName));
        // Names in any case, as Traefik; an unknown mode leaves the default.
        let set = FieldSet::new(
            false,
            &[
                ("rEqUeStHoSt".into(), Some(true)),
                ("ClientHost".into(), None),
            ],
        );
        assert!(set.has(Field::RequestHost));
        assert!(!set.has(Field::ClientHost));
    }
}
