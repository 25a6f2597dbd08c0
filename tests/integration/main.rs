//! The integration tests: the real `sockplay` binary (and its library) against real sockets, one
//! module per feature.

mod ss;
