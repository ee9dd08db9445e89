use super::*;

#[test]
fn benign_text_has_no_findings() {
    let c = Classifier::default();
    let r =
        c.classify("2024-05-01T12:00:00Z INFO request_id=3636dd46-ea21-11e9-81b4-2a2ae2dbcce4 ok");
    assert_eq!(r.findings, []);
    assert_eq!(r.sensitivity, Sensitivity::None);
}
