//! The conformance suites against this crate's in-memory implementations: the outbox, the
//! recording provider (every route, SMS guarded), the memory ticket sink and the split journal.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

rcsec::outbox_tests!(rcsec::MemoryOutbox::new);

mod recording_provider {
    use std::sync::Arc;
    use std::time::Duration;

    use rcsec::conformance::provider::{Fault, ProviderHarness};
    use rcsec::core::Msisdn;
    use rcsec::sms::SmsGuard;
    use rcsec::{MessageId, MessagingProvider, RecordingProvider, Route, ScriptedFailure};

    struct Recording(Arc<RecordingProvider>);

    impl Recording {
        async fn start() -> Self {
            let guard = SmsGuard::new(
                &["rcsec: new {severity} alert. Open it securely: {link}"],
                "https://alerts.example/l/".parse().unwrap(),
            )
            .unwrap();
            let routes = [
                Route::RcsE2ee,
                Route::EncryptedPush,
                Route::RcsPlain,
                Route::SmsLink,
            ];
            Self(Arc::new(
                RecordingProvider::new("recording", &routes).with_sms_guard(guard),
            ))
        }
    }

    #[rcsec::async_trait]
    impl ProviderHarness for Recording {
        fn provider(&self) -> Arc<dyn MessagingProvider> {
            self.0.clone()
        }

        fn recipient(&self) -> Msisdn {
            Msisdn::parse("+447700900123").unwrap()
        }

        fn sms_text(&self) -> String {
            "rcsec: new P1 alert. Open it securely: https://alerts.example/l/AbC123#k=Zz9".into()
        }

        async fn deliveries(&self, id: &MessageId) -> usize {
            self.0.accepted().iter().filter(|m| &m.id == id).count()
        }

        async fn inject(&self, fault: Fault) -> bool {
            let scripted = match fault {
                Fault::Unavailable => ScriptedFailure::Transient,
                Fault::Throttled => ScriptedFailure::RateLimited(Duration::from_secs(3)),
                Fault::UnknownRecipient => ScriptedFailure::NotReachable,
                Fault::Refused => ScriptedFailure::Rejected,
                Fault::AnswerLost => ScriptedFailure::TransientAfterAccept,
                _ => return false,
            };
            self.0.fail_next(&[scripted]);
            true
        }
    }

    rcsec::messaging_provider_tests!(Recording::start);
}

mod memory_ticket_sink {
    use std::sync::Arc;

    use rcsec::conformance::ticket::TicketHarness;
    use rcsec::core::AlertId;
    use rcsec::{MemoryTicketSink, TicketId, TicketSink};

    struct Memory(Arc<MemoryTicketSink>);

    impl Memory {
        async fn start() -> Self {
            Self(Arc::new(MemoryTicketSink::new()))
        }
    }

    #[rcsec::async_trait]
    impl TicketHarness for Memory {
        fn sink(&self) -> Arc<dyn TicketSink> {
            self.0.clone()
        }

        async fn tickets_for(&self, alert: &AlertId) -> usize {
            usize::from(self.0.ticket(alert).is_some())
        }

        fn unknown_ticket(&self) -> TicketId {
            TicketId::new("INC-999")
        }

        async fn break_backend(&self) -> bool {
            self.0.set_outage(true);
            true
        }
    }

    rcsec::ticket_sink_tests!(Memory::start);
}

mod split_journal {
    use std::sync::Arc;

    use rcsec::audit::MemoryAuditSink;
    use rcsec::{MemoryOutbox, SplitJournal};

    rcsec::journal_tests!(|| SplitJournal::new(
        Arc::new(MemoryOutbox::new()),
        Arc::new(MemoryAuditSink::new())
    ));
}
