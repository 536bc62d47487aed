//! `convo-contract <vendor> <prism-url>`: runs one vendor's contract
//! against a Prism mock server of its spec; exits non-zero on any violation.
//! `cargo xtask contract` starts Prism and runs this for every vendor.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [vendor, url] = args.as_slice() else {
        eprintln!("usage: convo-contract <{}> <prism-url>", convo_contract::VENDORS.join(" | "));
        return ExitCode::from(2);
    };
    match convo_contract::run(vendor, url).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(failures) => {
            eprintln!("contract {vendor}: {} violation(s):", failures.len());
            for failure in failures {
                eprintln!("  {failure}");
            }
            ExitCode::FAILURE
        }
    }
}
