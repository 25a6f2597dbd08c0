//! Datagrams: sendto(2) and recvfrom(2).

use super::{Failure, Outcome, Session};
use crate::lang::{AddrSpec, SockRef};

impl Session {
    pub(super) fn sendto(
        &mut self,
        _sock: &SockRef,
        _addr: &AddrSpec,
        _data: &[u8],
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("sendto is not available in this build"))
    }

    pub(super) fn recvfrom(
        &mut self,
        _sock: &SockRef,
        _max: usize,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("recvfrom is not available in this build"))
    }
}
