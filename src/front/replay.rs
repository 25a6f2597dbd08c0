//! Script replay (`sockplay FILE.sock`, `sockplay -`, piped stdin, `-c`): the whole script is read
//! and parsed before anything runs, and refused if it holds a line it may not run; then the engine
//! runs it, each command echoed and shown, and the first failure stops it.

use std::path::Path;

use crate::engine::{check_script, read_capped, read_script, Engine};
use crate::error::Error;
use crate::lang::{find_command, Script};

/// Where the script to replay comes from.
#[derive(Debug, Clone, Copy)]
pub enum ScriptSource<'a> {
    /// `-c`: commands separated by `;` outside quotes.
    Commands(&'a str),
    /// A script file.
    File(&'a Path),
    /// Standard input, read to its end: a pipe, a file, or a terminal.
    Stdin,
}

/// Reads and parses the script whole, and refuses it when it holds a line a script may run only
/// with --allow-shell (`!cmd`, `record FILE`): whatever is wrong, nothing has run yet.
pub fn load(source: ScriptSource<'_>, allow_shell: bool) -> Result<Script, Error> {
    let parsed = match source {
        ScriptSource::Commands(text) => Script::parse_commands(text),
        ScriptSource::File(path) => {
            let bytes = read_script(path).map_err(|error| {
                // `sockplay help` or `sockplay fds`: a command where a script file goes.
                let word = path.to_string_lossy();
                let command =
                    (find_command(&word).is_some() && !path.exists()).then(|| word.into_owned());
                Error::Unreadable { error, command }
            })?;
            Script::parse_bytes(&path.display().to_string(), &bytes)
        }
        ScriptSource::Stdin => {
            let bytes = read_capped(std::io::stdin().lock(), "<stdin>").map_err(|error| {
                Error::Unreadable {
                    error,
                    command: None,
                }
            })?;
            Script::parse_bytes("<stdin>", &bytes)
        }
    };
    let script = parsed.map_err(Error::Syntax)?;
    if !allow_shell {
        check_script(&script).map_err(Error::Refused)?;
    }
    Ok(script)
}

/// Replays a loaded script: to its end, to `quit`, or until stdout goes away (what ran held); or
/// it ends with the failure or the signal that stopped it.
pub fn replay(script: &Script, engine: &mut Engine) -> Result<(), Error> {
    engine.run_script(script).map_err(Error::Stopped)
}
