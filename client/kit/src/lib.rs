//! # gazette-kit — what the daemons and the command line share on the host
//!
//! `gazette-client` is pure; everything that touches the machine and is
//! needed by more than one program lives here once.

pub mod durable;
