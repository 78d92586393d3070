// The page in dist/ is embedded when this crate compiles: compile again when it is rebuilt
// (`cargo xtask web`), including when files are added or removed.
fn main() {
    println!("cargo::rerun-if-changed=dist");
}
