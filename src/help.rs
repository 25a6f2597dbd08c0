//! The text of `help`, built from the command table so it can never disagree with the parser.

use crate::lang::{find_command, suggest, Group, COMMANDS};

/// `help` (all commands by group) or `help COMMAND` (one in depth); an unknown topic is an error.
pub fn help_lines(topic: Option<&str>) -> Result<Vec<String>, String> {
    match topic {
        None => Ok(overview()),
        Some(topic) => match find_command(topic.split_whitespace().next().unwrap_or(topic)) {
            Some(spec) => {
                let mut lines = vec![
                    format!("usage: {}", spec.usage),
                    String::new(),
                    spec.summary.to_string(),
                    String::new(),
                ];
                lines.extend(spec.details.lines().map(str::to_string));
                Ok(lines)
            }
            None => {
                let mut line = format!("no command `{}`", crate::text::escape_text(topic));
                if let Some(near) = suggest(topic) {
                    line.push_str(&format!("; did you mean `{near}`?"));
                }
                Err(line)
            }
        },
    }
}

fn overview() -> Vec<String> {
    let mut lines = vec![
        "Every command is a real syscall on a real kernel socket; the panel shows the FD table after each step.".to_string(),
        "SOCK is an fd number (3) or a name given with `as NAME`. `help COMMAND` explains one command.".to_string(),
    ];
    let width = COMMANDS
        .iter()
        .map(|spec| spec.name.len())
        .max()
        .unwrap_or(8);
    for group in Group::ALL {
        lines.push(String::new());
        lines.push(format!("{}:", group.title()));
        for spec in COMMANDS.iter().filter(|spec| spec.group == group) {
            lines.push(format!("  {:width$}  {}", spec.name, spec.summary));
        }
    }
    lines.push(String::new());
    lines.push("Addresses: 127.0.0.1:8080  [::1]:8080  :0 (loopback, any port)  /tmp/x.sock  @abstract  $NAME".to_string());
    lines.push("Processes: `NAME: COMMAND` runs one command in process NAME; `COMMAND &` starts a call and comes back at once; `$PROC.NAME` is an address in another process".to_string());
    lines.push("Data escapes: \\r \\n \\t \\0 \\\\ \\\" \\xHH".to_string());
    lines
}
