//! Telling people about new findings: subscriptions, the email they get, and the relay that
//! sends what the outbox holds.
//!
//! `rescan` writes one outbox row per (subscription, finding) in the same transaction as the
//! finding ([`crate::store::Store::record_new_finding_with_deliveries`]); the relay
//! ([`relay`]) leases due rows, sends outside any transaction and records the outcome under the
//! lease's fencing token. Delivery is at-least-once: a crash between the SMTP server's 250 and
//! the commit re-sends, with the same `Message-ID`.
//!
//! Email subscribers with a daily or weekly cadence get no per-finding rows: `ecowatch digest
//! --send` queues one [`digest`] per subscriber and period instead.

pub mod dashboard;
pub mod dashboard_sync;
pub mod digest;
pub mod email;
pub mod email_config;
pub mod relay;
pub mod smtp;
pub mod subscription;
pub mod unsubscribe;
pub mod webhook;
