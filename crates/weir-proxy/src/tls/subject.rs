//! A certificate's subject as Go's `pkix.Name.String()` prints it, for the access log's
//! `TLSClientSubject`: `CN=client,OU=ops,O=Acme,L=Paris,C=FR`.
//!
//! Go keeps the standard attributes by type (the last common name and serial number,
//! every other value in order, several of one type joined by `+`), lists them from
//! serial number back to country, then any other attribute as `oid=#hex` of its DER
//! value, and escapes `,+"\<>;` (and a leading `#` or a space at either end) with `\`.

use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::FromDer as _;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// The subject of the DER certificate `der` in Go's form; `None` when it does not parse.
pub fn of_der(der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(go_string(cert.subject()))
}

/// The standard attribute types Go names, in the order it lists them before reversing.
const NAMED: [(&str, &str); 9] = [
    ("2.5.4.6", "C"),
    ("2.5.4.8", "ST"),
    ("2.5.4.7", "L"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.17", "POSTALCODE"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.5", "SERIALNUMBER"),
];

/// `name` as Go's `pkix.Name.String()`.
pub fn go_string(name: &X509Name<'_>) -> String {
    let mut values: [Vec<String>; 9] = Default::default();
    let mut others: Vec<String> = Vec::new();
    for atv in name.iter_attributes() {
        let oid = atv.attr_type().to_id_string();
        match NAMED.iter().position(|(o, _)| *o == oid) {
            // Go drops a standard attribute whose value is not a string.
            Some(i) => {
                if let Some(v) = text(atv) {
                    let slot = &mut values[i];
                    // One common name and one serial number: the last wins.
                    if NAMED[i].1 == "CN" || NAMED[i].1 == "SERIALNUMBER" {
                        slot.clear();
                    }
                    slot.push(v);
                }
            }
            None => others.push(format!("{oid}=#{}", crate::hex::lower(&go_der(atv)))),
        }
    }
    let mut rdns: Vec<String> = others;
    for (i, (_, short)) in NAMED.iter().enumerate() {
        if values[i].is_empty() {
            continue;
        }
        let rdn: Vec<String> = values[i]
            .iter()
            .map(|v| format!("{short}={}", escape(v)))
            .collect();
        rdns.push(rdn.join("+"));
    }
    rdns.reverse();
    rdns.join(",")
}

/// The value as text when it is one of the string types Go reads.
fn text(atv: &AttributeTypeAndValue<'_>) -> Option<String> {
    let any = atv.attr_value();
    let data = any.data;
    match any.tag() {
        Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::NumericString => {
            std::str::from_utf8(data).ok().map(str::to_owned)
        }
        // Go reads T61String byte for byte as Latin-1.
        Tag::T61String => Some(data.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// The DER Go writes for an attribute it does not name: a string value re-encoded as a
/// PrintableString when every character allows it, else as a UTF8String; anything else
/// as it came.
fn go_der(atv: &AttributeTypeAndValue<'_>) -> Vec<u8> {
    let any = atv.attr_value();
    let (tag, content): (u8, Vec<u8>) = match text(atv) {
        Some(s) if s.bytes().all(printable) => (0x13, s.into_bytes()),
        Some(s) => (0x0c, s.into_bytes()),
        None => (u8::try_from(any.tag().0).unwrap_or(0x04), any.data.to_vec()),
    };
    let mut der = vec![tag];
    let len = content.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        der.push(0x80 | bytes.len() as u8);
        der.extend(bytes);
    }
    der.extend(content);
    der
}

/// The characters of ASN.1's PrintableString.
fn printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b)
}

/// Go's escaping of an attribute value.
fn escape(v: &str) -> String {
    let count = v.chars().count();
    let mut out = String::with_capacity(v.len());
    for (i, c) in v.chars().enumerate() {
        let special = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => i == 0 || i + 1 == count,
            '#' => i == 0,
            _ => false,
        };
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_escape_like_go() {
        assert_eq!(escape("Acme, Inc."), "Acme\\, Inc.");
        assert_eq!(escape(" #lead"), "\\ #lead");
        assert_eq!(escape("#x y "), "\\#x y\\ ");
        assert_eq!(escape("a+b;c<d>\"e\\"), "a\\+b\\;c\\<d\\>\\\"e\\\\");
    }

    #[test]
    fn unnamed_values_are_reencoded_like_go() {
        assert!(printable(b'A') && printable(b' ') && !printable(b'@') && !printable(b'*'));
    }

    #[test]
    fn a_subject_prints_like_go() {
        use rcgen::{CertificateParams, DnType, DnValue, KeyPair};
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let dn = &mut params.distinguished_name;
        dn.push(DnType::CountryName, "FR");
        dn.push(DnType::StateOrProvinceName, "Ile-de-France");
        dn.push(DnType::LocalityName, "Paris");
        dn.push(DnType::OrganizationName, "Acme, Inc.");
        dn.push(DnType::OrganizationalUnitName, "ops");
        dn.push(DnType::CommonName, "client");
        dn.push(
            DnType::CustomDnType(vec![1, 2, 840, 113_549, 1, 9, 1]),
            DnValue::Ia5String("ops@acme.test".try_into().unwrap()),
        );
        let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
        assert_eq!(
            of_der(cert.der()).unwrap(),
            "CN=client,OU=ops,O=Acme\\, Inc.,L=Paris,ST=Ile-de-France,C=FR,\
             1.2.840.113549.1.9.1=#0c0d6f70734061636d652e74657374"
        );
        assert_eq!(of_der(b"not a certificate"), None);
    }
}
