//! A campaign's email: rendered once per slice with a placeholder link, then
//! given each recipient's own unsubscribe link.

use chrono::{DateTime, Utc};

use super::{SendError, SendOptions, message_id};
use crate::app::{App, campaign_email};
use crate::domain::brand::Brand;
use crate::domain::campaign::Campaign;
use crate::domain::follower::Follower;
use crate::domain::promotion::Promotion;
use crate::mail::{Mailbox, OutgoingEmail, RenderedEmail};
use crate::unsubscribe::{self, Scope};

/// Stands for the unsubscribe link in the template rendered once per slice;
/// replaced per recipient (it renders unchanged: no character the templates escape).
const LINK_PLACEHOLDER: &str = "https://engage.invalid/v1/unsubscribe/engage-link-placeholder";

/// What a campaign's emails share within one slice.
pub(super) struct Template {
    campaign: Campaign,
    brand_name: String,
    rendered: RenderedEmail,
}

impl Template {
    /// Renders the campaign's email once, for the brand the caller read.
    pub(super) fn render(
        app: &App,
        campaign: &Campaign,
        brand: Option<&Brand>,
        promotion: Option<&Promotion>,
    ) -> Result<Self, SendError> {
        let view = campaign_email::view(
            app,
            campaign,
            brand,
            promotion,
            LINK_PLACEHOLDER.to_owned(),
            false,
        );
        let rendered = campaign_email::render(app, &view)?;
        Ok(Self {
            campaign: campaign.clone(),
            brand_name: brand.map_or_else(|| campaign.brand_id.to_string(), |b| b.name.clone()),
            rendered,
        })
    }

    /// The email of one follower, with its own signed https unsubscribe link.
    pub(super) fn email(
        &self,
        app: &App,
        options: &SendOptions,
        f: &Follower,
        now: DateTime<Utc>,
    ) -> OutgoingEmail {
        let token = app
            .unsubscribe
            .token(&f.brand_id, &f.customer_id, Scope::Campaign, now);
        let link = unsubscribe::link(&app.public_url, &token);
        let content = RenderedEmail {
            subject: self.rendered.subject.clone(),
            html: self.rendered.html.replace(LINK_PLACEHOLDER, &link),
            text: self.rendered.text.replace(LINK_PLACEHOLDER, &link),
        };
        OutgoingEmail::new(
            message_id(&self.campaign.id, &f.customer_id),
            Mailbox::new(self.brand_name.clone(), options.from_address.clone()),
            f.relay_email.clone(),
            content,
            now,
        )
        .with_campaign(self.campaign.id.as_str())
        .with_list_unsubscribe(link)
    }
}
