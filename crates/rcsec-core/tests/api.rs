//! Public-API tests of rcsec-core: the formatting canary.
//!
//! Every type that can hold a number or a secret is formatted with `{}` and `{:?}`, alone and
//! nested in containers, and the output must contain neither the full number nor any run of
//! the secret's bytes.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use rcsec_core::{DefaultRegion, Msisdn, MsisdnError, Redacted, Secret};

const CANARY_NUMBER: &str = "+447700900123";
const CANARY_DIGITS: &str = "447700900123";
const CANARY_SECRET: &str = "CANARY-sk_live_9f8e7d6c5b4a";

fn assert_clean(rendered: &str) {
    assert!(
        !rendered.contains(CANARY_DIGITS),
        "number leaked: {rendered}"
    );
    assert!(
        !rendered.contains("7700900"),
        "number fragment leaked: {rendered}"
    );
    assert!(
        !rendered.contains(CANARY_SECRET),
        "secret leaked: {rendered}"
    );
    assert!(
        !rendered.contains("sk_live"),
        "secret fragment leaked: {rendered}"
    );
}

#[test]
fn no_type_formats_its_sensitive_content() {
    let number = Msisdn::parse(CANARY_NUMBER).unwrap();
    let national = Msisdn::parse_with_region("07700 900123", DefaultRegion::UK).unwrap();
    assert_eq!(number, national);
    let secret_text = Secret::new(CANARY_SECRET.to_owned());
    let secret_bytes = Secret::new(CANARY_SECRET.as_bytes().to_vec());
    let redacted = Redacted::new("alert text", CANARY_SECRET.to_owned());

    let renderings = [
        format!("{number}"),
        format!("{number:?}"),
        format!("{number:#?}"),
        format!("{:?}", [&number, &national]),
        format!("{:?}", Some(&number)),
        format!("{secret_text:?}"),
        format!("{secret_text:#?}"),
        format!("{secret_bytes:?}"),
        format!("{:?}", (&secret_text, &number)),
        format!("{redacted}"),
        format!("{redacted:?}"),
        format!("{redacted:#?}"),
    ];
    for rendered in &renderings {
        assert_clean(rendered);
    }
    assert_eq!(
        format!("{secret_text:?}"),
        format!("Secret([REDACTED; {} bytes])", CANARY_SECRET.len())
    );
    // The masked form still lets a person tell two numbers apart by their last digits.
    assert!(format!("{number}").ends_with("23"));
}

#[test]
fn errors_about_numbers_do_not_quote_them() {
    for bad in [
        "+44 7700 900123 x99",
        "+44 7700 900123 0000 0000",
        "+44 7700+900123",
    ] {
        let err: MsisdnError = Msisdn::parse(bad).unwrap_err();
        assert_clean(&format!("{err} {err:?}"));
    }
}

#[test]
fn panics_with_a_number_in_scope_do_not_print_it() {
    let number = Msisdn::parse(CANARY_NUMBER).unwrap();
    let result = std::panic::catch_unwind(|| {
        panic!(
            "delivery to {number} failed: {:?}",
            Secret::new(CANARY_SECRET.to_owned())
        );
    });
    let payload = result.unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert_clean(message);
}
