//! Loads config files and prints the effective config, or the error.
//! `cargo run -p pharos-config --example check_config -- FILE... [--yaml]`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let yaml = args.iter().any(|a| a == "--yaml");
    for path in args.iter().filter(|a| !a.starts_with("--")) {
        match pharos_config::Config::load(path) {
            Ok(c) if yaml => print!("{}", c.to_prometheus_yaml()),
            Ok(c) => match c.to_toml() {
                Ok(t) => print!("{t}"),
                Err(e) => println!("render error: {e}"),
            },
            Err(e) => println!("{e}"),
        }
    }
}
