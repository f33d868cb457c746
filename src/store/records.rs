//! Rule-enforcing records: the frequency cap, the send ledger, one contact per review.

use chrono::{DateTime, Duration, Utc};

use super::backend::{self, Backend, Doc, Partition, Put, When};
use super::item::{CapRecord, Item, from_micros};
use super::sending::CapTake;
use super::{StoreError, keys};
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

port! {
    /// The frequency cap per (brand, customer) (R-MYCE-14).
    pub trait CapStore {
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
        ) -> Result<CapOutcome, StoreError> {
            let take = CapTake {
                brand: brand.clone(),
                customer: customer.clone(),
                campaign: campaign.clone(),
            };
            let mut out = take_caps(self, std::slice::from_ref(&take), at, cap).await;
            out.pop().unwrap_or_else(|| {
                Err(StoreError::Permanent {
                    op: "take_cap",
                    source: "no result for the take".into(),
                })
            })
        }
    }
}

/// What [`LedgerStore::record_send`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum LedgerOutcome {
    /// First record for this (campaign, customer).
    Inserted,
    /// Already recorded; the existing record is unchanged.
    AlreadyRecorded(SendRecord),
}

port! {
    /// The send ledger: at most one record per (campaign, customer).
    pub trait LedgerStore {
        /// Records what happened to one recipient, once (conditional put).
        async fn record_send(&self, record: &SendRecord) -> Result<LedgerOutcome, StoreError> {
            let item = Item::new(
                keys::send(&record.campaign_id, &record.customer_id),
                record.clone(),
            );
            Ok(
                match insert_once(self, "record_send", "send record", item).await? {
                    None => LedgerOutcome::Inserted,
                    Some(stored) => LedgerOutcome::AlreadyRecorded(stored),
                },
            )
        }

        /// Reads the record of one recipient.
        async fn get_send(
            &self,
            campaign: &CampaignId,
            customer: &CustomerId,
        ) -> Result<Option<SendRecord>, StoreError> {
            backend::body(self, "get_send", keys::send(campaign, customer).key()).await
        }
    }
}

/// What [`ContactStore::put_contact`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactOutcome {
    /// The contact is stored: send its email.
    Inserted,
    /// The review was already answered; the existing contact.
    AlreadyContacted(Contact),
}

port! {
    /// Contacts: one per review (R-CC-7).
    pub trait ContactStore {
        /// Stores the contact unless the review already has one (conditional put).
        async fn put_contact(&self, contact: &Contact) -> Result<ContactOutcome, StoreError> {
            let keys = keys::contact_item(&contact.review_id, contact.sent_at);
            let item = Item::new(keys, contact.clone());
            Ok(
                match insert_once(self, "put_contact", "contact", item).await? {
                    None => ContactOutcome::Inserted,
                    Some(stored) => ContactOutcome::AlreadyContacted(stored),
                },
            )
        }

        /// The contact answering a review.
        async fn get_contact(&self, review: &ReviewId) -> Result<Option<Contact>, StoreError> {
            backend::body(self, "get_contact", keys::contact(review).key()).await
        }

        /// Contacts created (`sentAt`) between two instants, inclusive, oldest first.
        async fn list_contacts(
            &self,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
        ) -> Result<Vec<Contact>, StoreError> {
            let part = Partition::in_period(keys::CONTACTS.to_owned(), from, to);
            self.query("list_contacts", part).await
        }
    }
}

/// How many times a take refused by a record deleted since is tried again.
const CAP_ATTEMPTS: usize = 4;

/// The cap record a take writes: held until `at + cap`, kept a margin longer (TTL).
fn cap_item(take: &CapTake, at: DateTime<Utc>, cap: Duration) -> Item<CapRecord> {
    let next = at + cap;
    let record = CapRecord {
        brand_id: take.brand.clone(),
        customer_id: take.customer.clone(),
        campaign_id: take.campaign.clone(),
        taken_at: at,
        next_allowed_at: keys::micros(next),
    };
    Item::new(keys::cap(&take.brand, &take.customer), record)
        .expiring(next + keys::cap_ttl_margin())
}

/// What a refused take means: this campaign's own cap, or another's until its end.
fn held(stored: &CapRecord, campaign: &CampaignId) -> CapOutcome {
    if stored.campaign_id == *campaign {
        CapOutcome::AlreadyHeld
    } else {
        CapOutcome::Capped {
            until: from_micros(stored.next_allowed_at),
        }
    }
}

/// Takes every cap of `takes` (see [`CapStore::take_cap`]), one result per take, in order.
pub(crate) async fn take_caps(
    store: &impl Backend,
    takes: &[CapTake],
    at: DateTime<Utc>,
    cap: Duration,
) -> Vec<Result<CapOutcome, StoreError>> {
    let free = When::CapFree(keys::micros(at));
    let mut out: Vec<Option<Result<CapOutcome, StoreError>>> = takes.iter().map(|_| None).collect();
    for _ in 0..CAP_ATTEMPTS {
        let todo: Vec<usize> = (0..takes.len()).filter(|&i| out[i].is_none()).collect();
        if todo.is_empty() {
            break;
        }
        let puts = todo
            .iter()
            .map(|&i| (cap_item(&takes[i], at, cap), free.clone()))
            .collect();
        for (&i, put) in todo.iter().zip(store.put_all_if("take_cap", puts).await) {
            out[i] = match put {
                Ok(Put::Written) => Some(Ok(CapOutcome::Taken)),
                Ok(Put::Refused(Some(stored))) => Some(Ok(held(&stored.body, &takes[i].campaign))),
                // Deleted between the write and the read: the cap is free again.
                Ok(Put::Refused(None)) => None,
                Err(e) => Some(Err(e)),
            };
        }
    }
    out.into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                Err(StoreError::Transient {
                    op: "take_cap",
                    source: "the cap record kept vanishing under the take".into(),
                })
            })
        })
        .collect()
}

/// Writes `item` unless its key is taken: `None` when written, else the stored body.
async fn insert_once<T: Doc>(
    store: &impl Backend,
    op: &'static str,
    what: &str,
    item: Item<T>,
) -> Result<Option<T>, StoreError> {
    let (pk, sk) = (item.pk.clone(), item.sk.clone());
    match store.put_if(op, item, When::Absent).await? {
        Put::Written => Ok(None),
        Put::Refused(Some(stored)) => Ok(Some(stored.body)),
        Put::Refused(None) => Err(StoreError::Missing {
            what: format!("{what} {pk}/{sk} reported as existing"),
        }),
    }
}
