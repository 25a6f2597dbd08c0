//! `$NAME` across processes: an address argument names a socket of the process the command runs
//! in first, then of the others; `$PROC.NAME` names one process's socket explicitly. The front end
//! knows every process's names and the addresses they last had, so it resolves these before the
//! command is sent; a name the process holds open itself is left to that process, which says
//! exactly what is wrong with it (unbound, not a socket) if anything is.

use super::Processes;
use crate::lang::{AddrSpec, Command};
use crate::net::Endpoint;
use crate::session::Failure;

/// Rewrites the `$NAME` and `$PROC.NAME` addresses of `command`, about to run in process
/// `target`, into the addresses they name when another process (or a closed socket) holds them.
pub fn resolve_addresses(
    command: &mut Command,
    target: usize,
    processes: &Processes,
) -> Result<(), Failure> {
    let addr = match command {
        Command::Bind { addr, .. }
        | Command::Connect { addr, .. }
        | Command::SendTo { addr, .. } => addr,
        Command::In { command, .. } | Command::Background(command) => {
            return resolve_addresses(command, target, processes)
        }
        _ => return Ok(()),
    };
    let found = match &*addr {
        AddrSpec::Ref(name) => find_anywhere(name, target, processes)?,
        AddrSpec::ProcRef { process, name } => Some(find_in(process, name, processes)?),
        _ => None,
    };
    if let Some(endpoint) = found {
        let text = addr.to_string();
        *addr = AddrSpec::Found { text, endpoint };
    }
    Ok(())
}

/// `$NAME`: the target's own open socket is left to it (None); else the address NAME last had in
/// the target, else in the one other process that knows it. Several processes with different
/// addresses for NAME make it ambiguous.
fn find_anywhere(
    name: &str,
    target: usize,
    processes: &Processes,
) -> Result<Option<Endpoint>, Failure> {
    let Some(own) = processes.get(target) else {
        return Ok(None);
    };
    if own.table.view.sockets.contains_key(name) {
        return Ok(None);
    }
    if let Some(address) = own.table.view.addresses.get(name) {
        return Ok(Some(address.clone()));
    }
    let candidates: Vec<(&str, &Endpoint)> = processes
        .list()
        .iter()
        .filter_map(|p| Some((p.name.as_str(), p.table.view.addresses.get(name)?)))
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [(_, address), rest @ ..] if rest.iter().all(|(_, other)| other == address) => {
            Ok(Some((*address).clone()))
        }
        _ => {
            let listed: Vec<String> = candidates
                .iter()
                .map(|(process, address)| format!("${process}.{name} ({address})"))
                .collect();
            Err(Failure::usage(format!(
                "`${name}` is ambiguous: {} has no socket called `{name}`, and {} processes do: {}",
                own.name,
                listed.len(),
                listed.join(", ")
            ))
            .with_hint(format!("name the process: `$PROC.{name}`")))
        }
    }
}

/// `$PROC.NAME`: the address socket NAME of process PROC has (or last had).
fn find_in(process: &str, name: &str, processes: &Processes) -> Result<Endpoint, Failure> {
    let index = processes.find(process)?;
    let view = &processes.list()[index].table.view;
    if let Some(address) = view.addresses.get(name) {
        return Ok(address.clone());
    }
    if let Some(fd) = view.sockets.get(name) {
        return Err(Failure::usage(format!(
            "`{name}` of {process} (fd {fd}) has no address yet: bind it first, e.g. `{process}: bind {name} :0`"
        )));
    }
    let names: Vec<&str> = view.sockets.keys().map(String::as_str).collect();
    let mut message = format!("{process} has no socket called `{name}`");
    if let Some(near) = crate::text::closest(name, &names) {
        message.push_str(&format!("; did you mean `{near}`?"));
    } else if !names.is_empty() {
        message.push_str(&format!("; its names: {}", names.join(", ")));
    }
    Err(Failure::usage(message))
}
