//! What the session tells about one fd at a time, so that a step can say what changed in a
//! process's labels and names without building them all again: which fds the commands used
//! (noted as they resolve, make or close them), and each fd's label, handle name and address.

use std::cell::RefCell;

use super::{address, Object, Session};
use crate::net::Endpoint;

/// The fds the commands used since they were last taken.
#[derive(Debug, Default)]
pub(super) struct Touched(RefCell<Vec<i32>>);

impl Touched {
    /// Notes that a command used, made or closed `fd`.
    pub(super) fn note(&self, fd: i32) {
        self.0.borrow_mut().push(fd);
    }
}

impl Session {
    /// The fds the commands since the last call used, made or closed, each once, in order.
    pub fn take_touched(&self) -> Vec<i32> {
        let mut fds = std::mem::take(&mut *self.touched.0.borrow_mut());
        fds.sort_unstable();
        fds.dedup();
        fds
    }

    /// The fd's label in the panel's NAME column, as [`Session::labels`] has it: the handle's name,
    /// then the file objects over it (`conn [f]`).
    pub fn label_of(&self, fd: i32) -> Option<String> {
        let mut label = self.handles.get(&fd).and_then(|h| h.name.clone());
        for (file, object) in &self.files {
            if object.fd != fd {
                continue;
            }
            let name = label.get_or_insert_with(String::new);
            if !name.is_empty() {
                name.push(' ');
            }
            name.push_str(&format!("[{file}]"));
        }
        label
    }

    /// Whether `fd` is open with no handle (`detach`).
    pub fn is_detached(&self, fd: i32) -> bool {
        self.detached.contains_key(&fd)
    }

    /// The name the handle at `fd` has, if any.
    pub fn name_of(&self, fd: i32) -> Option<&str> {
        self.handles.get(&fd).and_then(|h| h.name.as_deref())
    }

    /// The name and bound address of the socket at `fd`, when it has both.
    pub fn bound_address_of(&self, fd: i32) -> Option<(String, Endpoint)> {
        let handle = self.handles.get(&fd)?;
        let name = handle.name.clone()?;
        let Object::Socket(socket) = &handle.object else {
            return None;
        };
        let local = socket
            .local_addr()
            .ok()
            .filter(|a| !address::is_unbound(a))?;
        Some((name, Endpoint::of(&local)?.named()?))
    }

    /// Every fd the session has something to say about: its handles, the detached ones and those
    /// under file objects.
    pub fn labelled_fds(&self) -> Vec<i32> {
        let mut fds: Vec<i32> = self.handles.keys().copied().collect();
        fds.extend(self.detached.keys());
        fds.extend(self.files.values().map(|file| file.fd));
        fds.sort_unstable();
        fds.dedup();
        fds
    }

    /// The fds sockplay holds for its own work in the process.
    pub fn internal_fds(&self) -> &std::collections::BTreeSet<i32> {
        &self.internal
    }

    /// The fd of the file object called `name`.
    pub fn file_fd(&self, name: &str) -> Option<i32> {
        self.files.get(name).map(|file| file.fd)
    }
}
