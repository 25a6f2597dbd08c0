//! Passing fds over unix sockets (SCM_RIGHTS).

use super::{Failure, Outcome, Session};
use crate::lang::SockRef;

impl Session {
    pub(super) fn sendfd(
        &mut self,
        _sock: &SockRef,
        _fd: &SockRef,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("sendfd is not available in this build"))
    }

    pub(super) fn recvfd(
        &mut self,
        _sock: &SockRef,
        _name: Option<&str>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("recvfd is not available in this build"))
    }
}
