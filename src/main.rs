fn main() {
    std::process::exit(sockplay::run(std::env::args_os()));
}
