use super::*;

const CANARY: &str = "AKIAIOSFODNN7CANARY1";

fn body(alerts: &str) -> String {
    format!(
        r#"{{"receiver":"ops","status":"firing","alerts":[{alerts}],
        "groupLabels":{{"alertname":"HighErrorRate"}},"commonLabels":{{}},"commonAnnotations":{{}},
        "externalURL":"http://127.0.0.1:9093","version":"4","groupKey":"{{}}:{{alertname=\"HighErrorRate\"}}",
        "truncatedAlerts":0,"notification_reason":"new","routeLabels":{{"a":"b"}}}}"#
    )
}

const FIRING: &str = r#"{"status":"firing","labels":{"alertname":"HighErrorRate","service":"checkout","severity":"critical","team":"payments"},
    "annotations":{"summary":"5xx above 5% for 10m","description":"see runbook"},
    "startsAt":"2026-11-22T01:00:00.123Z","endsAt":"0001-01-01T00:00:00Z",
    "generatorURL":"http://prometheus:9090/graph?g0.expr=x","fingerprint":"c4a1b2d3e4f50617"}"#;

const RESOLVED: &str = r#"{"status":"resolved","labels":{"alertname":"DiskFull","severity":"warning"},
    "annotations":{},"startsAt":"2026-11-22T00:00:00Z","endsAt":"2026-11-22T00:30:00+00:00",
    "generatorURL":"javascript:alert(1)","fingerprint":"00aa11bb22cc33dd"}"#;

#[test]
fn decodes_a_real_v4_payload_and_ignores_unknown_fields() {
    let n = AlertmanagerDecoder::default()
        .decode(body(&format!("{FIRING},{RESOLVED}")).as_bytes())
        .unwrap();
    assert_eq!(n.receiver, "ops");
    assert_eq!(n.group_status, AlertStatus::Firing);
    assert_eq!(n.truncated_alerts, 0);
    assert_eq!(n.external_url.unwrap().as_str(), "http://127.0.0.1:9093/");
    let [firing, resolved] = n.alerts.as_slice() else {
        panic!("two alerts expected")
    };
    assert_eq!(firing.id.as_str(), "c4a1b2d3e4f50617");
    assert_eq!(firing.status, AlertStatus::Firing);
    assert_eq!(firing.severity, Severity::P0);
    assert_eq!(firing.title.expose(), "HighErrorRate");
    assert_eq!(firing.summary.expose(), "5xx above 5% for 10m");
    assert_eq!(firing.details.expose(), "see runbook");
    assert_eq!(firing.label("team"), Some("payments"));
    assert_eq!(firing.starts_at.unwrap().as_millis(), 1_795_309_200_123);
    assert_eq!(firing.ends_at, None, "Go zero time means unset");
    assert!(firing.source_url.is_some());
    // A group can be firing while one of its alerts is resolved.
    assert_eq!(resolved.status, AlertStatus::Resolved);
    assert_eq!(resolved.severity, Severity::P2);
    assert!(resolved.ends_at.is_some());
    assert_eq!(
        resolved.source_url, None,
        "non-http generator URLs are dropped"
    );
}

#[test]
fn missing_fingerprint_is_derived_from_labels() {
    let a = r#"{"status":"firing","labels":{"alertname":"X","b":"2"}}"#;
    let b = r#"{"status":"firing","labels":{"b":"2","alertname":"X"}}"#;
    let c = r#"{"status":"firing","labels":{"alertname":"Y"}}"#;
    let d = AlertmanagerDecoder::default();
    let ids: Vec<AlertId> = [a, b, c]
        .iter()
        .map(|x| d.decode(body(x).as_bytes()).unwrap().alerts[0].id.clone())
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[0], ids[2]);
    assert_eq!(ids[0].as_str().len(), 16);
}

#[test]
fn severity_mapping_is_configurable_and_unknown_fails_closed() {
    let unknown = r#"{"status":"firing","labels":{"alertname":"X","severity":"purple"}}"#;
    let missing = r#"{"status":"firing","labels":{"alertname":"X","priority":"sev3"}}"#;
    let d = AlertmanagerDecoder::default();
    assert_eq!(
        d.decode(body(unknown).as_bytes()).unwrap().alerts[0].severity,
        Severity::P0
    );
    assert_eq!(
        d.decode(body(missing).as_bytes()).unwrap().alerts[0].severity,
        Severity::P0
    );
    let custom = AlertmanagerDecoder::default()
        .with_severity_map(SeverityMap::default().with("purple", Severity::P3))
        .with_unknown_severity(Severity::P1);
    assert_eq!(
        custom.decode(body(unknown).as_bytes()).unwrap().alerts[0].severity,
        Severity::P3
    );
    let by_priority = AlertmanagerDecoder::default().with_severity_label("priority");
    assert_eq!(
        by_priority.decode(body(missing).as_bytes()).unwrap().alerts[0].severity,
        Severity::P2
    );
}

#[test]
fn malformed_bodies_get_typed_errors() {
    let d = AlertmanagerDecoder::default();
    assert!(matches!(
        d.decode(b"{not json"),
        Err(WebhookError::Json {
            category: "syntax",
            ..
        })
    ));
    assert!(matches!(
        d.decode(br#"{"version":"4","status":"firing""#),
        Err(WebhookError::Json {
            category: "eof",
            ..
        })
    ));
    assert!(matches!(
        d.decode(br#"{"version":"4","status":"firing"}"#),
        Err(WebhookError::Json {
            category: "data",
            ..
        })
    ));
    let v3 = body(FIRING).replace(r#""version":"4""#, r#""version":"3""#);
    assert_eq!(
        d.decode(v3.as_bytes()),
        Err(WebhookError::UnsupportedVersion)
    );
    let bad_status = FIRING.replace(r#""status":"firing""#, r#""status":"exploded""#);
    assert_eq!(
        d.decode(body(&bad_status).as_bytes()),
        Err(WebhookError::InvalidStatus { index: 0 })
    );
    let bad_fp = FIRING.replace("c4a1b2d3e4f50617", "../../etc/passwd");
    assert_eq!(
        d.decode(body(&bad_fp).as_bytes()),
        Err(WebhookError::InvalidFingerprint { index: 0 })
    );
    let bad_time = FIRING.replace("2026-11-22T01:00:00.123Z", "yesterday");
    assert_eq!(
        d.decode(body(&format!("{RESOLVED},{bad_time}")).as_bytes()),
        Err(WebhookError::InvalidTimestamp {
            index: 1,
            field: "startsAt"
        })
    );
    let many = vec![RESOLVED; MAX_ALERTS + 1].join(",");
    assert_eq!(
        d.decode(body(&many).as_bytes()),
        Err(WebhookError::TooLarge { what: "alerts" })
    );
}

#[test]
fn errors_and_debug_never_quote_the_body() {
    let d = AlertmanagerDecoder::default();
    let with_canary = FIRING.replace("see runbook", &format!("aws_secret={CANARY}"));
    let alert = &d.decode(body(&with_canary).as_bytes()).unwrap().alerts[0];
    assert!(!format!("{alert:?}").contains(CANARY));
    // A type error right at the canary: serde_json would quote it in its own message.
    let typed = body(&FIRING.replace(
        r#""status":"firing""#,
        &format!(r#""status":{{"x":"{CANARY}"}}"#),
    ));
    let typed2 = format!(r#"{{"version":4,"k":"{CANARY}"}}"#);
    for bad in [typed, typed2, format!("{{\"version\":\"{CANARY}\"")] {
        let err = d.decode(bad.as_bytes()).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(CANARY), "{err}");
    }
}
