//! makefile: buffered file objects over a socket's fd, as Python's socket.makefile('rwb').

use super::{Failure, Outcome, Session};
use crate::lang::SockRef;

impl Session {
    pub(super) fn makefile(
        &mut self,
        _sock: &SockRef,
        _name: Option<&str>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("makefile is not available in this build"))
    }
    pub(super) fn readline(&mut self, _file: &str, _out: &mut Outcome) -> Result<(), Failure> {
        Err(Failure::usage("readline is not available in this build"))
    }
    pub(super) fn read(
        &mut self,
        _file: &str,
        _max: Option<usize>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("read is not available in this build"))
    }
    pub(super) fn write(
        &mut self,
        _file: &str,
        _data: &[u8],
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("write is not available in this build"))
    }
    pub(super) fn flush(&mut self, _file: &str, _out: &mut Outcome) -> Result<(), Failure> {
        Err(Failure::usage("flush is not available in this build"))
    }
}
