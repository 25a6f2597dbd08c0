use std::net::TcpListener;
use std::time::Instant;
use sockplay::render::*;
fn main() {
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    let _l: Vec<_> = (0..10000).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let mut prev = sockplay::fdtable::snapshot();
    for _ in 0..5 {
        let t = Instant::now(); let now = sockplay::fdtable::snapshot(); let a = t.elapsed();
        let t = Instant::now(); let rows = diff(&prev, &now); let p = diff_pending(&prev, &now); let b = t.elapsed();
        let t = Instant::now(); let lines = panel_lines_with_pending(&rows, &p, &Labels::default(), &PanelOptions { width: 160, color: false, max_rows: Some(50) }); let c = t.elapsed();
        println!("snapshot {a:?} diff {b:?} panel {c:?} {}", lines.len());
        prev = now;
    }
}
