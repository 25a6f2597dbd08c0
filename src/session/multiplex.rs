//! Waiting on many sockets at once: select(2), poll(2) and epoll(7).

use std::time::Duration;

use super::{Failure, Outcome, Session};
use crate::lang::{Interest, SockRef};

impl Session {
    pub(super) fn select(
        &mut self,
        _read: &[SockRef],
        _write: &[SockRef],
        _timeout: Option<Duration>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("select is not available in this build"))
    }

    pub(super) fn poll(
        &mut self,
        _socks: &[SockRef],
        _timeout: Option<Duration>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("poll is not available in this build"))
    }

    pub(super) fn epoll_create(
        &mut self,
        _name: Option<&str>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("epoll is not available in this build"))
    }

    pub(super) fn epoll_add(
        &mut self,
        _epoll: &SockRef,
        _sock: &SockRef,
        _interest: Interest,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("epoll is not available in this build"))
    }

    pub(super) fn epoll_del(
        &mut self,
        _epoll: &SockRef,
        _sock: &SockRef,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("epoll is not available in this build"))
    }

    pub(super) fn epoll_wait(
        &mut self,
        _epoll: &SockRef,
        _timeout: Option<Duration>,
        _out: &mut Outcome,
    ) -> Result<(), Failure> {
        Err(Failure::usage("epoll is not available in this build"))
    }
}
