//! Rule-enforcing records: the frequency cap, the send ledger, one contact per review.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::StoreError;
use crate::domain::contact::Contact;
use crate::domain::send::SendRecord;
use crate::domain::{BrandId, CampaignId, CustomerId, ReviewId};

/// What [`CapStore::take_cap`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapOutcome {
    /// The cap was free: this campaign holds it until `at + cap`.
    Taken,
    /// This same campaign already holds it (a retry): send if not yet sent, per the ledger.
    AlreadyHeld,
    /// Another campaign reached the customer less than `cap` ago.
    Capped {
        /// When the customer may be reached again.
        until: DateTime<Utc>,
    },
}

/// The frequency cap per (brand, customer) (R-MYCE-14).
#[async_trait]
pub trait CapStore: Send + Sync {
    /// Takes the cap with one conditional write: succeeds when there is no record or
    /// its `nextAllowedAt <= at`; then stores `nextAllowedAt = at + cap` (and a TTL a
    /// little later; the TTL is never relied on). The duration comes from the policy
    /// in force, never a constant.
    async fn take_cap(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
        campaign: &CampaignId,
        at: DateTime<Utc>,
        cap: Duration,
    ) -> Result<CapOutcome, StoreError>;
}

/// What [`LedgerStore::record_send`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum LedgerOutcome {
    /// First record for this (campaign, customer).
    Inserted,
    /// Already recorded; the existing record is unchanged.
    AlreadyRecorded(SendRecord),
}

/// The send ledger: at most one record per (campaign, customer).
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Records what happened to one recipient, once (conditional put).
    async fn record_send(&self, record: &SendRecord) -> Result<LedgerOutcome, StoreError>;

    /// Reads the record of one recipient.
    async fn get_send(
        &self,
        campaign: &CampaignId,
        customer: &CustomerId,
    ) -> Result<Option<SendRecord>, StoreError>;
}

/// What [`ContactStore::put_contact`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactOutcome {
    /// The contact is stored: send its email.
    Inserted,
    /// The review was already answered; the existing contact.
    AlreadyContacted(Contact),
}

/// Contacts: one per review (R-CC-7).
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Stores the contact unless the review already has one (conditional put).
    async fn put_contact(&self, contact: &Contact) -> Result<ContactOutcome, StoreError>;

    /// The contact answering a review.
    async fn get_contact(&self, review: &ReviewId) -> Result<Option<Contact>, StoreError>;

    /// Contacts created (`sentAt`) between two instants, inclusive, oldest first.
    async fn list_contacts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Contact>, StoreError> {
        let _ = (from, to);
        Err(StoreError::Permanent {
            op: "list_contacts",
            source: "this store cannot list contacts".into(),
        })
    }
}
