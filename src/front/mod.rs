//! The front ends: where lines come from and where output goes. The interactive prompt ([`repl`]),
//! script replay ([`replay`]) and the tutorials ([`tutorial`]) share one engine; every line they
//! print goes through the [`terminal`].

pub mod repl;
pub mod replay;
pub mod terminal;
pub mod tutorial;
