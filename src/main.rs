//! The hookscope binary: parses the command line and runs the receiver with the terminal UI,
//! headless output, or a subcommand.

use anyhow::{Context as _, Result};
use clap::Parser as _;
use hookscope::app::{App, Info};
use hookscope::cli::{self, Cli, Command, SecretSource, SendArgs, ServeArgs};
use hookscope::demo;
use hookscope::receiver::{self, Receiver};
use hookscope::sender::{self, Fault};
use hookscope::verify::Secret;
use hookscope::verify::{Key, Verifier};
use hookscope::{headless, sanitize, tui};
use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::mpsc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Read the local UTC offset while the process has one thread: the time crate refuses to
    // (soundly) once more threads exist.
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hookscope: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli, offset)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hookscope: {}", sanitize::line(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli, offset: time::UtcOffset) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Send(args)) => send(args).await,
        None => serve(cli.serve, offset).await,
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

async fn serve(args: ServeArgs, offset: time::UtcOffset) -> Result<ExitCode> {
    let (mut secrets, source) = cli::resolve_secrets(&args.secrets, env_var)?;
    if args.demo && secrets.is_empty() {
        secrets.push(Secret::parse(demo::DEMO_SECRET)?);
    }
    if !args.headless && !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the inspector needs a terminal on stdout; use --headless for scripts, pipes and CI"
        );
    }
    let addr = SocketAddr::new(args.bind, args.port);
    let verifier = Verifier::new(secrets, args.tolerance);
    let mut config = receiver::Config::new(addr, verifier.clone());
    config.max_body = args.max_body;
    let (tx, rx) = mpsc::channel(receiver::DEFAULT_QUEUE);
    let receiver = Receiver::start(config, tx).await?;
    let local = receiver.local_addr();
    eprintln!("listening on http://{local}");
    report_secrets(&verifier, &source);
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {}: anyone who can reach this machine's network can send deliveries (bind 127.0.0.1 and use a tunnel to limit that)",
            args.bind
        );
    }
    if args.demo
        && let Some(secret) = verifier
            .secrets()
            .iter()
            .find(|s| matches!(s.key, Key::Hmac(_)))
            .cloned()
    {
        tokio::spawn(async move {
            if let Err(e) = demo::run(local, &secret).await {
                eprintln!("demo: {e}");
            }
        });
    }
    if args.headless {
        let printer = headless::run(
            rx,
            args.format,
            std::io::BufWriter::new(std::io::stdout().lock()),
        );
        tokio::select! {
            result = printer => {
                if let Err(e) = result
                    && e.kind() != std::io::ErrorKind::BrokenPipe
                {
                    return Err(e).context("writing to stdout");
                }
            }
            _ = tokio::signal::ctrl_c() => {}
        }
    } else {
        let info = Info {
            listen: format!("http://{local}"),
            secrets: verifier.secrets().iter().map(|s| s.label()).collect(),
            tunnel: None,
        };
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let app = App::new(info, color, offset);
        let opts = tui::Options {
            ngrok_api: (!args.no_tunnel).then(|| args.ngrok_api.clone()),
            port: local.port(),
        };
        tui::run(app, rx, opts)
            .await
            .context("running the terminal UI")?;
    }
    receiver.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

fn report_secrets(verifier: &Verifier, source: &SecretSource) {
    let secrets = verifier.secrets();
    if secrets.is_empty() {
        eprintln!(
            "warning: no secret configured: signatures are not checked and every POST is answered 200 (pass --secret whsec_… or export HOOKSCOPE_SECRET)"
        );
        return;
    }
    let from = match source {
        SecretSource::Env(name) => format!(" (from ${name})"),
        _ => String::new(),
    };
    let labels: Vec<String> = secrets.iter().map(|s| s.label()).collect();
    eprintln!(
        "verifying with {} secret{}{from}: {} · tolerance {} s",
        secrets.len(),
        if secrets.len() == 1 { "" } else { "s" },
        labels.join(", "),
        verifier.tolerance()
    );
}

async fn send(args: SendArgs) -> Result<ExitCode> {
    let to = sender::parse_target(&args.to)?;
    let (secrets, _) = cli::resolve_secrets(&args.secrets, env_var)?;
    let path = to.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    // Prefer the most specific scope that covers the target path, like the receiver does.
    let secret = secrets
        .iter()
        .filter(|s| s.applies_to(path))
        .max_by_key(|s| {
            (
                s.scope.as_ref().map_or(0, |sc| sc.len()),
                matches!(s.key, Key::Hmac(_)),
            )
        })
        .cloned();
    let data = match &args.data {
        None => None,
        Some(d) => Some(match d.strip_prefix('@') {
            Some(file) => std::fs::read(file)
                .with_context(|| format!("reading --data file {file}"))?
                .into(),
            None => bytes::Bytes::from(d.clone().into_bytes()),
        }),
    };
    let mut faults = Vec::new();
    if args.tamper {
        faults.push(Fault::Tamper);
    }
    if args.stale {
        faults.push(Fault::Stale);
    }
    if args.wrong_secret {
        faults.push(Fault::WrongSecret);
    }
    let opts = sender::Options {
        to,
        secret,
        event_type: args.event_type,
        data,
        count: args.count,
        concurrency: args.concurrency,
        headers: args.headers,
        faults,
        quiet: args.quiet,
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let summary = sender::run(opts, std::io::stdout().lock()).await?;
    Ok(if summary.non_2xx == 0 && summary.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
