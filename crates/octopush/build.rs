use convo_codegen::{Customization, build_script};

fn main() {
    build_script("octopush.yaml", &customization());
}

// Kept in sync with xtask's view of this crate by living in one function
// that xtask can include too.
include!("codegen.rs");
