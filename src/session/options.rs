//! Socket options and names: setsockopt/getsockopt, getsockname/getpeername, O_NONBLOCK, shutdown.

use super::{Failure, Outcome, Session};
use crate::lang::{How, OptValue, SockOpt, SockRef};

impl Session {
    pub(super) fn setsockopt(
        &mut self,
        _sock: &SockRef,
        _option: &SockOpt,
        _value: OptValue,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("setsockopt is not available in this build"))
    }
    pub(super) fn getsockopt(
        &mut self,
        _sock: &SockRef,
        _option: &SockOpt,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("getsockopt is not available in this build"))
    }
    pub(super) fn getsockname(
        &mut self,
        _sock: &SockRef,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("getsockname is not available in this build"))
    }
    pub(super) fn getpeername(
        &mut self,
        _sock: &SockRef,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("getpeername is not available in this build"))
    }
    pub(super) fn nonblock(
        &mut self,
        _sock: &SockRef,
        _on: bool,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("nonblock is not available in this build"))
    }
    pub(super) fn shutdown(
        &mut self,
        _sock: &SockRef,
        _how: How,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("shutdown is not available in this build"))
    }
}
