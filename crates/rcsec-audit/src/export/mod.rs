//! Exports for SIEMs: OCSF 1.8 JSON and RFC 5424 syslog.
