//! Configuration read once from the environment at start.
