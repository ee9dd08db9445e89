#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
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

const RBM: &str = r#"
[provider.rbm]
base_url = "https://rbm.example/"
agent_id = "rcsec-agent"
service_account_key_file = "/etc/alertd/rbm-sa.json"
message_ttl_secs = 120
"#;

const KANNEL: &str = r#"
[provider.kannel]
sendsms_url = "http://10.0.0.5:13013/cgi-bin/sendsms"
username = "alertd"
password_file = "/etc/alertd/kannel.password"
from = "+447700900000"
dlr_base_url = "http://10.0.0.7:8080/"
"#;

const SERVICENOW: &str = r#"
[ticket.servicenow]
instance_url = "https://example.service-now.com/"
user = "rcsec.integration"
password_file = "/etc/alertd/servicenow.password"
assignment_group = "Payments SRE"
"#;

/// Expects `text` to be refused with `field` named.
fn refused(text: &str, field: &str) {
    match Config::from_toml(text) {
        Err(ConfigError::Invalid { field: f, .. }) => assert_eq!(f, field, "{text}"),
        other => panic!("{field}: expected Invalid, got {other:?}"),
    }
}

#[test]
fn provider_and_ticket_tables_parse_with_defaults() {
    let text = format!("{MINIMAL}{RBM}{KANNEL}{SERVICENOW}");
    let c = Config::from_toml(&text).unwrap();
    let rbm = c.provider.rbm.as_ref().unwrap();
    assert_eq!(rbm.message_ttl_secs, 120);
    assert_eq!(rbm.timeout_ms, 5000);
    assert_eq!(rbm.agent_id.as_deref(), Some("rcsec-agent"));
    let kannel = c.provider.kannel.as_ref().unwrap();
    assert_eq!(kannel.from.as_deref(), Some("+447700900000"));
    let sn = c.ticket.servicenow.as_ref().unwrap();
    assert_eq!(sn.assignment_group.as_deref(), Some("Payments SRE"));
    assert_eq!(
        c.provider_order(),
        vec![
            ProviderName::Rbm,
            ProviderName::Kannel,
            ProviderName::Loopback
        ]
    );
    let ordered = format!(
        "{}\n[routing]\nproviders = [\"kannel\", \"loopback\", \"rbm\"]\n",
        text
    );
    assert_eq!(
        Config::from_toml(&ordered).unwrap().provider_order(),
        vec![
            ProviderName::Kannel,
            ProviderName::Loopback,
            ProviderName::Rbm
        ]
    );
    // The default RBM endpoint is Google's.
    let default_base = format!(
        "{MINIMAL}{}",
        RBM.replace("base_url = \"https://rbm.example/\"\n", "")
    );
    assert!(
        Config::from_toml(&default_base)
            .unwrap()
            .provider
            .rbm
            .unwrap()
            .base_url
            .is_none()
    );
}

#[test]
fn a_kannel_only_deployment_is_valid() {
    let text = MINIMAL.replace(
        "[provider.loopback]\nroster = \"/etc/alertd/roster.toml\"",
        KANNEL.trim(),
    );
    let c = Config::from_toml(&text).unwrap();
    assert_eq!(c.provider_order(), vec![ProviderName::Kannel]);
}

#[test]
fn unknown_keys_in_the_new_tables_are_named() {
    for (table, typo) in [
        (RBM, "agent_idd = \"x\"\n"),
        (KANNEL, "passwd = \"inline\"\n"),
        (SERVICENOW, "pasword_file = \"/x\"\n"),
        (
            "\n[ticket.webhook]\nurl = \"https://t.example/\"\nbearer_token_file = \"/x\"\n",
            "bearer = \"x\"\n",
        ),
    ] {
        let text = format!("{MINIMAL}{table}{typo}");
        let err = Config::from_toml(&text).unwrap_err().to_string();
        let key = typo.split(' ').next().unwrap();
        assert!(err.contains(key), "{err}");
    }
    let err = Config::from_toml(&format!("{MINIMAL}\n[provider.sms]\nurl = \"x\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("sms"), "{err}");
    let err = Config::from_toml(&format!("{MINIMAL}\n[routing]\nproviders = [\"pigeon\"]\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("pigeon"), "{err}");
}

#[test]
fn invalid_provider_values_name_their_key() {
    let with = |extra: &str| format!("{MINIMAL}{extra}");
    // RBM.
    refused(
        &with(&RBM.replace("https://rbm.example/", "http://rbm.example/")),
        "provider.rbm.base_url",
    );
    refused(
        &with(&RBM.replace("https://rbm.example/", "https://user:pw@rbm.example/")),
        "provider.rbm.base_url",
    );
    refused(
        &with(&RBM.replace("https://rbm.example/", "https://rbm.example/v1")),
        "provider.rbm.base_url",
    );
    refused(
        &with(&format!("{RBM}token_file = \"/etc/alertd/rbm.token\"\n")),
        "provider.rbm.service_account_key_file",
    );
    refused(
        &with(&RBM.replace(
            "service_account_key_file = \"/etc/alertd/rbm-sa.json\"\n",
            "",
        )),
        "provider.rbm.service_account_key_file",
    );
    refused(
        &with(&RBM.replace("rcsec-agent", "agent/../x")),
        "provider.rbm.agent_id",
    );
    refused(
        &with(&RBM.replace("= 120", "= 5")),
        "provider.rbm.message_ttl_secs",
    );
    refused(
        &with(&format!("{RBM}timeout_ms = 10\n")),
        "provider.rbm.timeout_ms",
    );
    // Plain HTTP to a loopback RBM (a local fake or proxy) is fine.
    let local = with(&RBM.replace("https://rbm.example/", "http://127.0.0.1:9999/"));
    Config::from_toml(&local).unwrap();
    // Kannel.
    refused(
        &with(&KANNEL.replace("http://10.0.0.5:13013/cgi-bin/sendsms", "ftp://10.0.0.5/x")),
        "provider.kannel.sendsms_url",
    );
    refused(
        &with(&KANNEL.replace("cgi-bin/sendsms", "cgi-bin/sendsms?password=inline")),
        "provider.kannel.sendsms_url",
    );
    refused(
        &with(&KANNEL.replace("\"alertd\"", "\"\"")),
        "provider.kannel.username",
    );
    refused(
        &with(&KANNEL.replace("+447700900000", "call me {maybe}")),
        "provider.kannel.from",
    );
    refused(
        &with(&KANNEL.replace("http://10.0.0.7:8080/", "http://10.0.0.7:8080/dlr")),
        "provider.kannel.dlr_base_url",
    );
    // Routing order.
    let routed = |list: &str| with(&format!("{RBM}\n[routing]\nproviders = {list}\n"));
    refused(
        &routed("[\"rbm\", \"kannel\", \"loopback\"]"),
        "routing.providers",
    );
    refused(
        &routed("[\"rbm\", \"rbm\", \"loopback\"]"),
        "routing.providers",
    );
    refused(&routed("[\"rbm\"]"), "routing.providers");
}

#[test]
fn invalid_ticket_values_name_their_key() {
    let with = |extra: &str| format!("{MINIMAL}{extra}");
    refused(
        &with(&SERVICENOW.replace("https://example", "http://example")),
        "ticket.servicenow.instance_url",
    );
    refused(
        &with(&SERVICENOW.replace("user = \"rcsec.integration\"\n", "")),
        "ticket.servicenow.password_file",
    );
    refused(
        &with(&format!("{SERVICENOW}bearer_token_file = \"/x\"\n")),
        "ticket.servicenow.password_file",
    );
    refused(
        &with(&SERVICENOW.replace("Payments SRE", "")),
        "ticket.servicenow.assignment_group",
    );
    let webhook = "\n[ticket.webhook]\nurl = \"https://t.example/hook\"\n";
    refused(&with(webhook), "ticket.webhook.bearer_token_file");
    refused(
        &with(&format!(
            "{webhook}bearer_token_file = \"/x\"\n{SERVICENOW}"
        )),
        "ticket",
    );
    // A local receiver needs no token.
    Config::from_toml(&with(
        "\n[ticket.webhook]\nurl = \"http://127.0.0.1:9000/hook\"\n",
    ))
    .unwrap();
}
