//! Sends one alert through rcsec with this crate's own provider and token store.
//!
//! `cargo run -p rcsec-embed` starts a stand-in vendor endpoint on 127.0.0.1, pages one
//! responder about an alert whose summary carries a database password, and prints what the
//! vendor received: the password redacted, and a one-time link in its place.

use rcsec::audit::Verifier;
use rcsec::core::{AlertId, Msisdn, Severity};
use rcsec::{Alert, Responder};
use rcsec_embed::{PhoneGateway, service};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let vendor = PhoneGateway::start().await?;
    let (orchestrator, audit) = service(vendor.addr())?;

    let alert = Alert::firing(
        AlertId::new("db7-down-4f2a")?,
        Severity::P1,
        "PostgresDown",
        "db-7 refuses connections; DATABASE_URL=postgres://app:Pa55-w0rd!@db-7:5432/app",
    );
    let oncall = Responder::new(Msisdn::parse("+44 7700 900123")?, "Alice");
    let report = orchestrator.handle_alert(alert, vec![oncall]).await?;

    for d in &report.deliveries {
        println!(
            "{} {}: route {} ({}), {:?}",
            d.name,
            d.recipient,
            d.route.as_str(),
            d.fallback_reason.map_or("best route", |r| r.as_str()),
            d.status,
        );
    }
    for m in vendor.received() {
        println!("vendor received over {}: {}", m.route, m.text);
    }
    let verified = Verifier::new().verify_bytes(&audit.log_bytes()?)?;
    println!("audit log verified: {} events", verified.head.size);
    Ok(())
}
