//! pptadm's `list` options with `getopt(3C)` rules: `ahjo:pNU`, clustered
//! flags (`-aj`), `-o` with an attached or separate argument, `--` ending
//! the options, the first operand ending them too. The global
//! `--from/--root/--cfgspace` options are also accepted here, because
//! everything after `list` reaches this parser.

/// What the command line asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Opts {
    /// `-a`.
    pub all: bool,
    /// `-j`.
    pub json: bool,
    /// `-o FIELDS`.
    pub fields: Option<String>,
    /// `-p`.
    pub parsable: bool,
    /// `-U`.
    pub unknown: bool,
    /// `-N`.
    pub native: bool,
    /// Global options given after `list`: (name, value).
    pub globals: Vec<(String, String)>,
}

/// How parsing ended other than with options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `-h`: usage on stdout, exit 0.
    Help,
    /// A usage error: `getopt`'s own line (if any), then pptadm's message.
    Usage {
        /// What `getopt` prints first (`list: illegal option -- x`).
        getopt: Option<String>,
        /// pptadm's message.
        message: String,
    },
}

const GLOBALS: [&str; 5] = [
    "--from",
    "--root",
    "--cfgspace",
    "--boot-media",
    "--boot-style",
];

fn usage(getopt: Option<String>, m: &str) -> Stop {
    Stop::Usage {
        getopt,
        message: m.to_string(),
    }
}

/// Parses the arguments after `list`.
pub fn parse(args: &[String]) -> Result<Opts, Stop> {
    let mut o = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        if a == "--help" {
            return Err(Stop::Help);
        }
        if let Some(g) = GLOBALS
            .iter()
            .find(|g| a == *g || a.starts_with(&format!("{g}=")))
        {
            let value = global_value(args, &mut i, g)?;
            o.globals.push((g[2..].to_string(), value));
        } else {
            letters(args, &mut i, &mut o)?;
        }
        i += 1;
    }
    combination(o, i < args.len())
}

/// The value of a global option at `args[*i]` (`--root=DIR` or `--root
/// DIR`, which moves `i` on to the value).
fn global_value(args: &[String], i: &mut usize, g: &str) -> Result<String, Stop> {
    if let Some((_, v)) = args[*i].split_once('=') {
        return Ok(v.to_string());
    }
    *i += 1;
    args.get(*i).cloned().ok_or_else(|| {
        usage(
            Some(format!("list: option requires an argument -- {}", &g[2..])),
            "unrecognized option",
        )
    })
}

/// One cluster of option letters at `args[*i]` (`-ap`, `-odev,path`,
/// `-o FIELDS`, which moves `i` on to the fields), as getopt reads it.
fn letters(args: &[String], i: &mut usize, o: &mut Opts) -> Result<(), Stop> {
    let chars: Vec<char> = args[*i].chars().skip(1).collect();
    for (j, &c) in chars.iter().enumerate() {
        match c {
            'a' => o.all = true,
            'h' => return Err(Stop::Help),
            'j' => o.json = true,
            'p' => o.parsable = true,
            'N' => o.native = true,
            'U' => o.unknown = true,
            'o' => {
                let rest: String = chars[j + 1..].iter().collect();
                if rest.is_empty() {
                    *i += 1;
                    let v = args.get(*i).ok_or_else(|| {
                        usage(
                            Some("list: option requires an argument -- o".into()),
                            "unrecognized option",
                        )
                    })?;
                    o.fields = Some(v.clone());
                } else {
                    o.fields = Some(rest);
                }
                return Ok(());
            }
            c => {
                return Err(usage(
                    Some(format!("list: illegal option -- {c}")),
                    "unrecognized option",
                ))
            }
        }
    }
    Ok(())
}

/// The combinations pptadm refuses, in its order; `operands` says
/// whether arguments were left after the options.
fn combination(o: Opts, operands: bool) -> Result<Opts, Stop> {
    // pptadm only complains when exactly one operand is left (two are
    // silently ignored); any operand is a mistake, so we always say so.
    // The SmartOS pptadm checks -N/-U before the stray operands
    // (illumos-joyent `usr/src/cmd/pptadm/pptadm.c`, `list`).
    if (o.unknown || o.native) && !o.all {
        return Err(usage(None, "-N and/or -U cannot be used without -a"));
    }
    if operands {
        return Err(usage(None, "unused arguments"));
    }
    if o.json && (o.parsable || o.fields.is_some()) {
        return Err(usage(
            None,
            "-j option cannot be used with -p or -o options",
        ));
    }
    if o.fields.is_none() && o.parsable {
        return Err(usage(None, "-o must be provided when using -p option"));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Opts, Stop> {
        parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn getopt_rules() {
        let o = p(&["-ao", "dev,path", "-p"]).unwrap();
        assert!(o.all && o.parsable);
        assert_eq!(o.fields.as_deref(), Some("dev,path"));
        let o = p(&["-aodev", "--"]).unwrap();
        assert_eq!(o.fields.as_deref(), Some("dev"));
        assert_eq!(p(&["-h", "-z"]), Err(Stop::Help));
        assert!(
            matches!(p(&["-z"]), Err(Stop::Usage { getopt: Some(g), .. }) if g == "list: illegal option -- z")
        );
        assert!(
            matches!(p(&["-o"]), Err(Stop::Usage { getopt: Some(g), .. }) if g.contains("requires an argument -- o"))
        );
        assert!(
            matches!(p(&["x"]), Err(Stop::Usage { message, .. }) if message == "unused arguments")
        );
        assert!(
            matches!(p(&["-U", "x"]), Err(Stop::Usage { message, .. }) if message.starts_with("-N and/or -U"))
        );
        assert!(
            matches!(p(&["-a", "-N", "x"]), Err(Stop::Usage { message, .. }) if message == "unused arguments")
        );
        assert!(
            matches!(p(&["-j", "-o", "dev"]), Err(Stop::Usage { message, .. }) if message.starts_with("-j option"))
        );
        assert!(
            matches!(p(&["-p"]), Err(Stop::Usage { message, .. }) if message.starts_with("-o must"))
        );
        assert!(
            matches!(p(&["-U"]), Err(Stop::Usage { message, .. }) if message.starts_with("-N and/or -U"))
        );
        let o = p(&["--root", "/x", "--from=devinfo:f", "-a"]).unwrap();
        assert_eq!(
            o.globals,
            [
                ("root".to_string(), "/x".to_string()),
                ("from".to_string(), "devinfo:f".to_string())
            ]
        );
    }
}
