//! The table definition: `infra/table.json` (CloudFormation `AWS::DynamoDB::Table`
//! Properties), the one place the SAM template, local tooling and tests take it from.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use serde::Deserialize;

use super::sdk_error;
use crate::store::StoreError;

/// `infra/table.json`, as shipped.
pub const TABLE_JSON: &str = include_str!("../../../infra/table.json");

/// The table's properties, as CloudFormation spells them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TableDefinition {
    /// Attributes used in keys.
    pub attribute_definitions: Vec<AttributeDef>,
    /// The primary key.
    pub key_schema: Vec<KeyDef>,
    /// The GSIs.
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    /// `PAY_PER_REQUEST`.
    pub billing_mode: String,
    /// The TTL attribute.
    pub time_to_live_specification: Option<TtlDef>,
    /// Point-in-time recovery.
    pub point_in_time_recovery_specification: Option<PitrDef>,
}

/// One attribute definition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AttributeDef {
    /// Name.
    pub attribute_name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

/// One key schema element.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct KeyDef {
    /// Attribute.
    pub attribute_name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct IndexDef {
    /// Name.
    pub index_name: String,
    /// Its keys.
    pub key_schema: Vec<KeyDef>,
    /// What it projects.
    pub projection: ProjectionDef,
}

/// A GSI projection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ProjectionDef {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    /// With `INCLUDE`.
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

/// The TTL attribute.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TtlDef {
    /// Attribute (epoch seconds).
    pub attribute_name: String,
    /// On or off.
    pub enabled: bool,
}

/// Point-in-time recovery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PitrDef {
    /// On or off.
    pub point_in_time_recovery_enabled: bool,
}

/// Parses [`TABLE_JSON`].
pub fn table_definition() -> Result<TableDefinition, StoreError> {
    serde_json::from_str(TABLE_JSON).map_err(|e| StoreError::Permanent {
        op: "parse infra/table.json",
        source: Box::new(e),
    })
}

fn bad(what: &'static str) -> impl FnOnce(aws_sdk_dynamodb::error::BuildError) -> StoreError {
    move |e| StoreError::Permanent {
        op: what,
        source: Box::new(e),
    }
}

fn keys(defs: &[KeyDef]) -> Result<Vec<KeySchemaElement>, StoreError> {
    defs.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(bad("build key schema"))
        })
        .collect()
}

/// Creates the table from [`TABLE_JSON`] under `table_name`, waits until it is
/// active, then turns on its TTL and point-in-time recovery.
pub async fn create_table(client: &Client, table_name: &str) -> Result<(), StoreError> {
    let def = table_definition()?;
    let attributes = def
        .attribute_definitions
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .map_err(bad("build attribute definition"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = def
        .global_secondary_indexes
        .iter()
        .map(|g| {
            let projection = Projection::builder()
                .projection_type(ProjectionType::from(g.projection.projection_type.as_str()))
                .set_non_key_attributes(
                    (!g.projection.non_key_attributes.is_empty())
                        .then(|| g.projection.non_key_attributes.clone()),
                )
                .build();
            GlobalSecondaryIndex::builder()
                .index_name(&g.index_name)
                .set_key_schema(Some(keys(&g.key_schema)?))
                .projection(projection)
                .build()
                .map_err(bad("build index"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    client
        .create_table()
        .table_name(table_name)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(keys(&def.key_schema)?))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .billing_mode(BillingMode::from(def.billing_mode.as_str()))
        .send()
        .await
        .map_err(|e| sdk_error("create_table", e))?;

    for _ in 0..120 {
        let status = client
            .describe_table()
            .table_name(table_name)
            .send()
            .await
            .map_err(|e| sdk_error("describe_table", e))?
            .table
            .and_then(|t| t.table_status);
        if status == Some(TableStatus::Active) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }

    if let Some(ttl) = def.time_to_live_specification {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(ttl.attribute_name)
            .enabled(ttl.enabled)
            .build()
            .map_err(bad("build ttl"))?;
        client
            .update_time_to_live()
            .table_name(table_name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| sdk_error("update_time_to_live", e))?;
    }
    if let Some(pitr) = def.point_in_time_recovery_specification {
        let spec = PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(pitr.point_in_time_recovery_enabled)
            .build()
            .map_err(bad("build point-in-time recovery"))?;
        client
            .update_continuous_backups()
            .table_name(table_name)
            .point_in_time_recovery_specification(spec)
            .send()
            .await
            .map_err(|e| sdk_error("update_continuous_backups", e))?;
    }
    Ok(())
}
