//! The storage port and its adapters (embedded SQLite, DynamoDB).
