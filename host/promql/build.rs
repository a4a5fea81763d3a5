//! Generates the PromQL parser from `src/parser/promql.lalrpop`.

fn main() {
    println!("cargo:rerun-if-changed=src/parser/promql.lalrpop");
    if let Err(e) = lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .process_file("src/parser/promql.lalrpop")
    {
        panic!("lalrpop failed on src/parser/promql.lalrpop: {e}");
    }
}
