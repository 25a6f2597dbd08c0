//! makefile: buffered file objects over a socket's fd, as Python's socket.makefile('rwb') makes. No
//! new fd: the buffers live in this process, which is the point — bytes a readline pulled in have left
//! the kernel's RECV-Q, and bytes written sit here until flush.

use std::os::fd::{AsFd, AsRawFd};
use std::time::Instant;

use nix::sys::socket::MsgFlags;

use super::calls::show_received;
use super::{invocation, Failure, Outcome, Returned, Session};
use crate::lang::SockRef;
use crate::text::escape_bytes;

/// How much one refill of a read buffer asks the kernel for (Python's default buffer size).
const BUFFER_SIZE: usize = 8192;

/// The most a file object buffers for one read, whatever the peer sends.
const MAX_BUFFERED: usize = crate::lang::RECV_MAX_LIMIT;

/// A buffered file object over a socket's fd.
#[derive(Debug)]
pub(super) struct FileObject {
    pub(super) fd: i32,
    /// Bytes taken from the socket but not yet handed to the user.
    read_buffer: Vec<u8>,
    /// Bytes written but not yet sent.
    write_buffer: Vec<u8>,
    /// The socket said EOF: no refill will bring more.
    at_eof: bool,
}

/// What a read through a file object stops at.
enum Until {
    Line,
    Count(usize),
    Eof,
}

impl Session {
    fn file(&self, name: &str) -> Result<&FileObject, Failure> {
        self.files.get(name).ok_or_else(|| {
            let mut message = format!("no file is named `{name}`");
            if self
                .handles
                .values()
                .any(|h| h.name.as_deref() == Some(name))
            {
                message.push_str(&format!(
                    ": `{name}` is a socket; make a file over it with `makefile {name} as f`"
                ));
            } else {
                message.push_str("; make one with `makefile SOCK as NAME`");
            }
            Failure::usage(message)
        })
    }

    /// Drops the file objects over fd (it is being closed or detached), saying so.
    pub(super) fn drop_files_of(&mut self, fd: i32, out: &mut Outcome) {
        let names: Vec<String> = self
            .files
            .iter()
            .filter(|(_, f)| f.fd == fd)
            .map(|(n, _)| n.clone())
            .collect();
        for name in names {
            if let Some(file) = self.files.remove(&name) {
                let mut lost = Vec::new();
                if !file.read_buffer.is_empty() {
                    lost.push(format!(
                        "{} it had taken from the socket but not handed out {} discarded",
                        crate::text::plural(file.read_buffer.len(), "byte"),
                        if file.read_buffer.len() == 1 {
                            "is"
                        } else {
                            "are"
                        }
                    ));
                }
                if !file.write_buffer.is_empty() {
                    lost.push(format!(
                        "{} never flushed {} lost",
                        crate::text::plural(file.write_buffer.len(), "byte"),
                        if file.write_buffer.len() == 1 {
                            "is"
                        } else {
                            "are"
                        }
                    ));
                }
                let mut note = format!("file `{name}` over fd {fd} is closed with it");
                if !lost.is_empty() {
                    note.push_str(&format!(": {}", lost.join("; ")));
                }
                out.say(note);
            }
        }
    }

    pub(super) fn makefile(
        &mut self,
        sock: &SockRef,
        name: Option<&str>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        self.socket_at(fd)?;
        let name = name.map_or_else(|| crate::lang::default_file_name(sock), str::to_string);
        self.check_name_free(Some(&name))?;
        self.files.insert(
            name.clone(),
            FileObject {
                fd,
                read_buffer: Vec::new(),
                write_buffer: Vec::new(),
                at_eof: false,
            },
        );
        out.call(invocation!("makefile", sock, "'rwb'").ended(Returned::Object(name.clone())));
        out.say(format!(
            "`{name}` reads and writes fd {fd} through buffers in this process; no new fd"
        ));
        Ok(())
    }

    /// One recv into the file's read buffer, waiting until `deadline` unless the fd is non-blocking.
    fn refill(
        &mut self,
        name: &str,
        deadline: Instant,
        out: &mut Outcome,
    ) -> Result<usize, Failure> {
        let fd = self.file(name)?.fd;
        let socket = self.socket_at(fd)?;
        let mut chunk = vec![0u8; BUFFER_SIZE];
        let call = invocation!("recv", fd, BUFFER_SIZE, "0");
        let received = self.blocking(
            socket.as_fd(),
            deadline,
            &call,
            &format!("no data arrived on fd {fd}"),
            out,
            || nix::sys::socket::recv(socket.as_raw_fd(), &mut chunk, MsgFlags::empty()),
        )?;
        match received {
            Ok(n) => {
                out.call(
                    call.returned(n)
                        .with_note(format!("(filling `{name}`'s buffer)")),
                );
                if let Some(file) = self.files.get_mut(name) {
                    file.read_buffer.extend_from_slice(&chunk[..n]);
                    file.at_eof = n == 0;
                }
                Ok(n)
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(Failure::os(
                    errno,
                    format!("reading fd {fd} for `{name}` failed"),
                ))
            }
        }
    }

    /// Hands back bytes from the file's buffer, refilling from the socket until `until` is met.
    fn read_until(
        &mut self,
        name: &str,
        until: Until,
        label: &'static str,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let deadline = self.deadline();
        // How far the buffer has been searched for a newline: each refill only adds to the end,
        // so a long line costs one pass, not one pass per refill.
        let mut searched = 0;
        loop {
            let file = self.file(name)?;
            let ready = match until {
                Until::Line => {
                    let found = file.read_buffer[searched..]
                        .iter()
                        .position(|&b| b == b'\n');
                    let end = found.map(|i| searched + i + 1);
                    searched = file.read_buffer.len();
                    end
                }
                Until::Count(n) => (file.read_buffer.len() >= n).then_some(n),
                Until::Eof => None,
            };
            let take = match ready {
                Some(n) => n,
                None if file.at_eof => file.read_buffer.len(),
                // A peer that floods without a newline (or never closes) must not fill memory:
                // past the cap, hand back what is there, as a file object with a size limit would.
                None if file.read_buffer.len() >= MAX_BUFFERED => {
                    out.say(format!(
                        "`{name}` stops at {MAX_BUFFERED} buffered bytes: the line (or stream) is longer"
                    ));
                    MAX_BUFFERED
                }
                None => {
                    self.refill(name, deadline, out)?;
                    continue;
                }
            };
            let Some(file) = self.files.get_mut(name) else {
                return Err(Failure::usage(format!("no file is named `{name}`")));
            };
            let data: Vec<u8> = file.read_buffer.drain(..take).collect();
            let kept = file.read_buffer.len();
            let fd = file.fd;
            out.call(
                invocation!(label, name)
                    .returned(data.len())
                    .with_note(show_received(&data)),
            );
            if data.is_empty() {
                out.say(super::calls::eof_sentence(fd));
            }
            if kept > 0 {
                out.say(format!(
                    "`{name}` still buffers {} that left the kernel's RECV-Q: \"{}\"",
                    crate::text::plural(kept, "byte"),
                    escape_bytes(&file.read_buffer[..kept.min(48)])
                ));
            }
            self.last.received = Some(data);
            return Ok(());
        }
    }

    pub(super) fn readline(&mut self, file: &str, out: &mut Outcome) -> Result<(), Failure> {
        self.read_until(file, Until::Line, "readline", out)
    }

    pub(super) fn read(
        &mut self,
        file: &str,
        max: Option<usize>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let until = max.map_or(Until::Eof, Until::Count);
        self.read_until(file, until, "read", out)
    }

    pub(super) fn write(
        &mut self,
        file: &str,
        data: &[u8],
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        self.file(file)?;
        let Some(object) = self.files.get_mut(file) else {
            return Err(Failure::usage(format!("no file is named `{file}`")));
        };
        object.write_buffer.extend_from_slice(data);
        out.call(
            invocation!("write", file, format!("\"{}\"", escape_bytes(data))).returned(data.len()),
        );
        out.say(format!(
            "`{file}` buffers {}; the socket sees nothing until `flush {file}`",
            crate::text::plural(object.write_buffer.len(), "byte")
        ));
        Ok(())
    }

    pub(super) fn flush(&mut self, file: &str, out: &mut Outcome) -> Result<(), Failure> {
        let object = self.file(file)?;
        let (fd, pending) = (object.fd, object.write_buffer.clone());
        if pending.is_empty() {
            out.say(format!("flush({file}): nothing buffered"));
            return Ok(());
        }
        // A short send leaves the rest buffered, as a file would keep it.
        let sent = self.send(&SockRef::Fd(fd), &pending, out)?;
        if let Some(object) = self.files.get_mut(file) {
            object
                .write_buffer
                .drain(..sent.min(object.write_buffer.len()));
        }
        Ok(())
    }
}
