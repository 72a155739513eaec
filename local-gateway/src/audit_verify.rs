//! `audit-verify`: recomputes the audit hash chains (SEC-2) of one practice, or of every
//! practice, and names the first broken link of each broken chain. Exit status 1 when any
//! chain is broken. Reads TABLE_NAME and the AWS settings from the environment, like the
//! functions (locally: `make audit-verify`, against the `make dev` stack).
//!
//!     audit-verify [practice-id ...]

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = carethread_core::App::from_env().await?;
    use carethread_core::domain::PracticeId;
    let mut practices =
        std::env::args().skip(1).map(|raw| PracticeId::parse("practice-id", &raw)).collect::<Result<Vec<_>, _>>()?;
    if practices.is_empty() {
        practices = app.store.practice_ids().await?;
    }
    let mut broken = 0;
    for p in &practices {
        let report = carethread_core::audit::verify_practice(&app, p).await?;
        println!(
            "{p}: {} chains, {} events verified, {} not yet chained, {} broken",
            report.chains,
            report.events,
            report.unchained,
            report.broken.len()
        );
        for b in &report.broken {
            println!("  BROKEN {} at #{} (event {}): {}", b.chain, b.seq, b.event_id, b.problem);
        }
        broken += report.broken.len();
    }
    if broken > 0 {
        std::process::exit(1);
    }
    Ok(())
}
