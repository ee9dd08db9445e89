#![allow(clippy::unwrap_used, reason = "tests")]
use super::*;

const MINIMAL: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "https://alerts.example/"

[alertmanager]
bearer_token_file = "/etc/alertd/alertmanager.token"

[store]
kind = "sqlite"
state_dir = "/var/lib/alertd"

[provider.loopback]
roster = "/etc/alertd/roster.toml"
"#;

#[test]
fn minimal_config_gets_defaults() {
    let c = Config::from_toml(MINIMAL).unwrap();
    assert_eq!(c.server.max_body_bytes, 1024 * 1024);
    assert_eq!(c.links.ttl_secs, 900);
    assert_eq!(c.pipeline.tick_interval_ms, 1000);
    assert_eq!(c.routing.team_label, "team");
    assert_eq!(c.alertmanager.severity_label, "severity");
    assert!(matches!(c.store, StoreConfig::Sqlite { .. }));
    assert!(c.responders.is_empty());
}

#[test]
fn the_shipped_example_parses() {
    let text = include_str!("../../alertd.example.toml");
    let c = Config::from_toml(text).unwrap();
    assert!(!c.responders.is_empty());
}

#[test]
fn unknown_keys_are_errors_with_a_position() {
    let text = MINIMAL.replace("listen =", "listen_adress = \"x\"\nlisten =");
    let err = Config::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("listen_adress"), "{err}");
    assert!(err.contains("line"), "{err}");
}

#[test]
fn out_of_range_values_are_refused() {
    for (from, to, field) in [
        (
            "https://alerts.example/",
            "mailto:x@example.com",
            "server.public_url",
        ),
        (
            "[provider.loopback]\nroster = \"/etc/alertd/roster.toml\"",
            "[provider]",
            "provider",
        ),
    ] {
        let err = Config::from_toml(&MINIMAL.replace(from, to)).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { field: f, .. } if f == field),
            "{field}: {err}"
        );
    }
    let tiny = format!("{MINIMAL}\n[links]\nttl_secs = 5\n");
    assert!(matches!(
        Config::from_toml(&tiny),
        Err(ConfigError::Invalid {
            field: "links.ttl_secs",
            ..
        })
    ));
    let body = MINIMAL.replace(
        "public_url = \"https://alerts.example/\"",
        "public_url = \"https://alerts.example/\"\nmax_body_bytes = 10",
    );
    assert!(matches!(
        Config::from_toml(&body),
        Err(ConfigError::Invalid {
            field: "server.max_body_bytes",
            ..
        })
    ));
}

#[test]
fn syntax_errors_are_typed() {
    assert!(matches!(
        Config::from_toml("[server"),
        Err(ConfigError::Toml(_))
    ));
    assert!(matches!(Config::from_toml(""), Err(ConfigError::Toml(_))));
}

#[test]
fn missing_file_names_the_path() {
    let err = Config::load(Path::new("/nonexistent/alertd.toml")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/alertd.toml"));
}
