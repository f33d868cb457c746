//! Domain types and state machines: pure, no I/O, clock passed in.
