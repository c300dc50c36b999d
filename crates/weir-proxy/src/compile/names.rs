//! Qualified names: every element is known as `name@provider`; a reference without `@`
//! means the referencing element's provider.

/// `name@provider`.
pub fn qualify(name: &str, provider: &str) -> String {
    format!("{name}@{provider}")
}

/// Resolves a reference made by an element of `provider`.
pub fn resolve(reference: &str, provider: &str) -> String {
    if reference.contains('@') {
        reference.to_owned()
    } else {
        qualify(reference, provider)
    }
}

/// The provider part of a qualified name.
pub fn provider_of(qualified: &str) -> &str {
    qualified.rsplit_once('@').map_or("", |(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_references() {
        assert_eq!(resolve("whoami", "file"), "whoami@file");
        assert_eq!(resolve("api@internal", "file"), "api@internal");
        assert_eq!(provider_of("a@b@file"), "file");
        assert_eq!(provider_of("plain"), "");
    }
}
