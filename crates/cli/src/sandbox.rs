use convo_sandbox::{Sandbox, SandboxOptions, Vendor, credentials};

use crate::args::SandboxArgs;
use crate::error::CliError;

/// `convo sandbox`: serves until interrupted.
pub async fn run(args: SandboxArgs) -> Result<(), CliError> {
    let options = SandboxOptions { port: args.port, messages: args.messages, ..SandboxOptions::default() };
    let sandbox = Sandbox::start(options)
        .await
        .map_err(|e| CliError::Other(format!("cannot start the sandbox on 127.0.0.1:{}: {e}", args.port)))?;
    println!("convo sandbox listening on http://{}", sandbox.addr());
    println!();
    for vendor in Vendor::ALL {
        println!("{:<14} {}", vendor.as_str(), sandbox.base_url(vendor));
    }
    println!();
    println!("The sandbox's own keys (not secrets; use them as the environment variables):");
    for name in Vendor::ALL.iter().flat_map(|vendor| vendor.variables().credentials) {
        println!("  {name}={}", credentials::variable(name).unwrap_or_default());
    }
    println!();
    println!(
        "Conversations: the documented samples{}",
        if args.messages > 0 {
            format!(", and {} generated messages per vendor", args.messages)
        } else {
            String::new()
        }
    );
    println!("  infobip        {}", convo_sandbox::ids::infobip::SAMPLE_CONVERSATION);
    println!("  octopush       {}", convo_sandbox::ids::octopush::SAMPLE_CONVERSATION);
    println!("  leadconnector  {}", convo_sandbox::ids::leadconnector::SAMPLE_CONVERSATION);
    println!(
        "  bird           {} (workspace {})",
        convo_sandbox::ids::bird::SAMPLE_CONVERSATION,
        convo_sandbox::ids::bird::WORKSPACE
    );
    if args.messages > 0 {
        println!(
            "Generated: infobip {}, octopush {}, leadconnector {}, bird {}",
            convo_sandbox::ids::infobip::GENERATED_CONVERSATION,
            convo_sandbox::ids::octopush::GENERATED_CONVERSATION,
            convo_sandbox::ids::leadconnector::GENERATED_CONVERSATION,
            convo_sandbox::ids::bird::GENERATED_CONVERSATION
        );
    }
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.map_err(|e| CliError::Other(format!("cannot wait for Ctrl-C: {e}")))?;
    drop(sandbox);
    Ok(())
}
