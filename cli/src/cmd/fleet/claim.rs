//! `pptctl fleet claim`, `fleet release` and `fleet claims`: holding
//! devices of one host for a while, so two requests cannot both get them.
//! All rules are in `fleet::claims`; this module parses and renders.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use fleet::{Claim, ClaimError, ClaimRequest, Constraint, DeviceSelector, Fleet};

use super::{db_err, emit, json};
use crate::error::CliError;

/// What `--same` keeps together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Same {
    /// One PCIe root complex.
    RootComplex,
    /// One NUMA node.
    Numa,
}

/// What `--spread` spreads over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Spread {
    /// Each device below a different root complex.
    RootComplex,
}

/// `--same` and `--spread`, shared by `fleet hosts` and `fleet claim`.
#[derive(Args, Debug, Clone, Default)]
pub struct TopologyArgs {
    /// All devices below one root complex (root-complex) or on one NUMA
    /// node (numa).
    #[arg(long, value_name = "WHAT", conflicts_with = "spread")]
    pub same: Option<Same>,
    /// Each device below a different root complex.
    #[arg(long, value_name = "WHAT")]
    pub spread: Option<Spread>,
}

impl TopologyArgs {
    /// The library's constraint.
    pub fn constraint(&self) -> Constraint {
        match (self.same, self.spread) {
            (Some(Same::RootComplex), _) => Constraint::SameRoot,
            (Some(Same::Numa), _) => Constraint::SameNuma,
            (None, Some(Spread::RootComplex)) => Constraint::SpreadRoot,
            (None, None) => Constraint::None,
        }
    }
}

/// Arguments of `pptctl fleet claim`.
#[derive(Args, Debug)]
pub struct ClaimArgs {
    /// Devices wanted, lspci -d grammar (10de:, ::0302). Default: any device.
    #[arg(long, value_name = "SELECTOR")]
    pub can_pass: Option<String>,
    /// How many whole devices (all functions of each).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u32,
    /// Who holds the claim (a VM name, a ticket, a user).
    #[arg(long = "for", value_name = "HOLDER")]
    pub holder: String,
    /// How long the claim lasts (90s, 30m, 2h, 7d, 1w) or until when (RFC 3339).
    /// Default: until released.
    #[arg(long, value_name = "DUR|TIME")]
    pub ttl: Option<String>,
    /// Only this host.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// The host's generation seen in `fleet hosts --why-not --json`; the
    /// claim is refused when a newer snapshot shows a device gone or used.
    #[arg(long, value_name = "N", requires = "host")]
    pub generation: Option<i64>,
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `pptctl fleet release`.
#[derive(Args, Debug)]
pub struct ReleaseArgs {
    /// The claim id (`fleet claims`).
    #[arg(value_name = "CLAIM", required_unless_present = "holder")]
    pub claim: Option<i64>,
    /// The holder: with CLAIM it must be the claim's; alone, every live
    /// claim of the holder is released.
    #[arg(long = "for", value_name = "HOLDER")]
    pub holder: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `pptctl fleet claims`.
#[derive(Args, Debug)]
pub struct ClaimsArgs {
    /// Only this holder's claims.
    #[arg(long = "for", value_name = "HOLDER")]
    pub holder: Option<String>,
    /// Expired and released claims too.
    #[arg(long)]
    pub all: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A claim refusal: bad input exits 2, the fleet's state 1.
pub(crate) fn claim_err(e: ClaimError) -> CliError {
    match e {
        ClaimError::Fleet(f) => db_err(f),
        e if e.is_input() => CliError::input(e.to_string()),
        e => CliError::failed(e.to_string()),
    }
}

/// One line per claim: id, holder, host, devices, expiry, state.
fn table(claims: &[Claim]) -> String {
    let mut s = String::from("CLAIM\tHOLDER\tHOST\tDEVICES\tEXPIRES\tSTATE\n");
    for c in claims {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            c.id,
            c.holder,
            c.host,
            c.devices.join(","),
            c.expires.as_deref().unwrap_or("never"),
            c.state
        ));
    }
    s
}

/// `fleet claim`: exit 0 with the claim, 1 when nothing can be claimed.
pub fn claim(db: &mut Fleet, args: &ClaimArgs) -> Result<ExitCode, CliError> {
    let sel = match &args.can_pass {
        Some(s) => DeviceSelector::parse(s).map_err(db_err)?,
        None => DeviceSelector::any(),
    };
    let req = ClaimRequest {
        selector: &sel,
        count: i64::from(args.count.max(1)),
        holder: &args.holder,
        ttl: args.ttl.as_deref(),
        host: args.host.as_deref(),
        generation: args.generation,
        constraint: args.topology.constraint(),
        client_time: fleet::time::now(),
    };
    let c = db.claim(&req).map_err(claim_err)?;
    emit(&if args.json { json(&c)? } else { table(&[c]) })?;
    Ok(ExitCode::SUCCESS)
}

/// `fleet release`: exit 0 when something was released, 1 otherwise.
pub fn release(db: &mut Fleet, args: &ReleaseArgs) -> Result<ExitCode, CliError> {
    let released = match (args.claim, &args.holder) {
        (Some(id), h) => vec![db.release(id, h.as_deref()).map_err(claim_err)?],
        (None, Some(h)) => db.release_all(h).map_err(claim_err)?,
        (None, None) => return Err(CliError::input("name a CLAIM or --for HOLDER")),
    };
    if released.is_empty() {
        return Err(CliError::failed(format!(
            "{} holds no live claim",
            args.holder.as_deref().unwrap_or("")
        )));
    }
    emit(&if args.json {
        json(&released)?
    } else {
        table(&released)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `fleet claims`: the live claims (or all), exit 0.
pub fn list(db: &mut Fleet, args: &ClaimsArgs) -> Result<ExitCode, CliError> {
    let claims = db
        .claims(args.holder.as_deref(), args.all)
        .map_err(claim_err)?;
    emit(&if args.json {
        json(&claims)?
    } else {
        table(&claims)
    })?;
    Ok(ExitCode::SUCCESS)
}
