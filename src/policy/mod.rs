//! Versioned policy files: load, validate, pick the version in force, evaluate, explain.
