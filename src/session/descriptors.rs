//! fd-level calls: socketpair(2), dup(2), and the RLIMIT_NOFILE limit.

use super::{Failure, Outcome, Session};
use crate::lang::{Family, SockRef, SockType};

impl Session {
    pub(super) fn socketpair(
        &mut self,
        _family: Family,
        _sock_type: SockType,
        _names: Option<&(String, String)>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("socketpair is not available in this build"))
    }
    pub(super) fn dup(
        &mut self,
        _sock: &SockRef,
        _name: Option<&str>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("dup is not available in this build"))
    }
    pub(super) fn ulimit(
        &mut self,
        _limit: Option<u64>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("ulimit is not available in this build"))
    }
}
