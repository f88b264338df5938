//! The `rabbithole` command line: parse, validate, run, write. All the work is in the library.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
