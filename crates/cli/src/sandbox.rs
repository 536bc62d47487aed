use convo_sandbox::{Sandbox, SandboxOptions, Vendor, credentials};

use std::fmt::Write as _;

use crate::args::SandboxArgs;
use crate::error::{self, CliError};

/// `convo sandbox`: serves until interrupted.
pub async fn run(args: SandboxArgs) -> Result<(), CliError> {
    let options = SandboxOptions { port: args.port, messages: args.messages, ..SandboxOptions::default() };
    let sandbox =
        Sandbox::start(options).await.map_err(|e| error::sandbox_failed(e, &format!(" on 127.0.0.1:{}", args.port)))?;
    // Written whole, then flushed: a stdout that cannot take it (a full
    // disk) is an error, not a panic.
    let listing = listing(&sandbox, &args).map_err(|e| CliError::Other(format!("cannot list the sandbox: {e}")))?;
    error::print_out(&listing)?;
    tokio::signal::ctrl_c().await.map_err(|e| CliError::Other(format!("cannot wait for Ctrl-C: {e}")))?;
    drop(sandbox);
    Ok(())
}

/// What the sandbox serves, and how to use it.
fn listing(sandbox: &Sandbox, args: &SandboxArgs) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    writeln!(out, "convo sandbox listening on http://{}", sandbox.addr())?;
    writeln!(out)?;
    for vendor in Vendor::ALL {
        writeln!(out, "{:<14} {}", vendor.as_str(), sandbox.base_url(vendor))?;
    }
    writeln!(out)?;
    writeln!(out, "The sandbox's own keys (not secrets; use them as the environment variables):")?;
    for name in Vendor::ALL.iter().flat_map(|vendor| vendor.variables().credentials) {
        writeln!(out, "  {name}={}", credentials::variable(name).unwrap_or_default())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Conversations: the documented samples{}",
        if args.messages > 0 {
            format!(", and {} generated messages per vendor", args.messages)
        } else {
            String::new()
        }
    )?;
    writeln!(out, "  infobip        {}", convo_sandbox::ids::infobip::SAMPLE_CONVERSATION)?;
    writeln!(out, "  octopush       {}", convo_sandbox::ids::octopush::SAMPLE_CONVERSATION)?;
    writeln!(out, "  leadconnector  {}", convo_sandbox::ids::leadconnector::SAMPLE_CONVERSATION)?;
    writeln!(
        out,
        "  bird           {} (workspace {})",
        convo_sandbox::ids::bird::SAMPLE_CONVERSATION,
        convo_sandbox::ids::bird::WORKSPACE
    )?;
    if args.messages > 0 {
        writeln!(
            out,
            "Generated: infobip {}, octopush {}, leadconnector {}, bird {}",
            convo_sandbox::ids::infobip::GENERATED_CONVERSATION,
            convo_sandbox::ids::octopush::GENERATED_CONVERSATION,
            convo_sandbox::ids::leadconnector::GENERATED_CONVERSATION,
            convo_sandbox::ids::bird::GENERATED_CONVERSATION
        )?;
    }
    writeln!(out, "Press Ctrl-C to stop.")?;
    Ok(out)
}
