//! `carethread-admin`: the operator's command (ACCT-1). It runs the very code of the local
//! stack's `POST /_local/practices`, with the operator's own credentials from the standard
//! AWS environment (a profile, SSO, or keys; `AWS_ENDPOINT_URL` only for the local stack) and
//! the stack's resources from the environment the functions read (README, "Deploying").
//!
//!     carethread-admin practice create --name "Maple Family Medicine" --admin-email avery@maple.example
//!         [--admin-first-name Avery] [--admin-last-name Admin] [--staff-totp required|optional]
//!     carethread-admin user sync --practice prc_… --user usr_…
//!     carethread-admin practice sms-number --practice prc_… (--number +15550100000 | --none)
//!
//! `user sync` brings a staff user's sign-in in line with its directory record (made if
//! missing, disabled if inactive): what to run when `practice create` made the practice but
//! Cognito failed before the administrator's account was made. `practice sms-number` gives a
//! practice its two-way SMS number (NOTIFY-4) or takes it away: texts to the number reach that
//! practice, so only the operator, who bought the number for it, may say whose it is (ACCT-4).

use std::process::ExitCode;

const USAGE: &str = "usage: carethread-admin practice create --name NAME --admin-email EMAIL \
[--admin-first-name FIRST] [--admin-last-name LAST] [--staff-totp required|optional]
       carethread-admin user sync --practice PRACTICE_ID --user STAFF_ID
       carethread-admin practice sms-number --practice PRACTICE_ID (--number E164 | --none)
environment: TABLE_NAME, BUCKET_NAME, KMS_KEY_ID, USER_POOL_ID (the stack's outputs) and the \
operator's AWS credentials and region";

/// The value after each `--flag`, refusing flags it does not know.
fn flags(args: &[String], known: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let name = flag.strip_prefix("--").filter(|n| known.contains(n)).ok_or(format!("unknown argument {flag}"))?;
        let value = it.next().ok_or(format!("--{name} needs a value"))?;
        out.push((name.to_string(), value.clone()));
    }
    Ok(out)
}

async fn create_practice(args: &[String]) -> Result<(), String> {
    let given = flags(args, &["name", "admin-email", "admin-first-name", "admin-last-name", "staff-totp"])?;
    let get = |k: &str| given.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let name = get("name").ok_or("--name is required")?;
    let email = get("admin-email").ok_or("--admin-email is required")?;
    let app = carethread_core::App::from_env().await.map_err(|e| e.to_string())?;
    let first = get("admin-first-name").unwrap_or("Practice");
    let last = get("admin-last-name").unwrap_or("Admin");
    let staff_totp = match get("staff-totp").unwrap_or("required") {
        "required" => true,
        "optional" => false,
        _ => return Err("--staff-totp is `required` (the default) or `optional`".into()),
    };
    let (practice_id, admin_id) =
        carethread_core::ops::onboarding::create_practice(&app, name, first, last, email, staff_totp)
            .await
            .map_err(|e| format!("the practice was not created: {e}"))?;
    println!("practice {practice_id} created");
    println!("administrator username: {admin_id}");
    carethread_core::ops::accounts::sync_staff_by_id(&app, &practice_id, &admin_id).await.map_err(|e| {
        format!(
            "the administrator's sign-in could not be made ({e}); nothing is lost, run again:\n  \
             carethread-admin user sync --practice {practice_id} --user {admin_id}"
        )
    })?;
    println!("Cognito e-mailed a temporary password to {email}; the first sign-in asks for a new one.");
    if staff_totp {
        println!("Staff set up an authenticator app (TOTP) before their first request (ACCT-3).");
    }
    Ok(())
}

/// The `--practice` flag: required, and a practice id.
fn practice_flag(raw: Option<&str>) -> Result<carethread_core::domain::PracticeId, String> {
    let raw = raw.ok_or("--practice is required")?;
    carethread_core::domain::PracticeId::parse("--practice", raw).map_err(|e| e.to_string())
}

async fn sync_user(args: &[String]) -> Result<(), String> {
    let given = flags(args, &["practice", "user"])?;
    let get = |k: &str| given.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let practice = practice_flag(get("practice"))?;
    let user = get("user").ok_or("--user is required")?;
    let user = carethread_core::domain::UserId::parse_staff("--user", user).map_err(|e| e.to_string())?;
    let app = carethread_core::App::from_env().await.map_err(|e| e.to_string())?;
    carethread_core::ops::accounts::sync_staff_by_id(&app, &practice, &user).await.map_err(|e| e.to_string())?;
    println!("{user}'s sign-in matches its directory record");
    Ok(())
}

async fn sms_number(args: &[String]) -> Result<(), String> {
    // `--none` takes no value: it is the whole answer.
    let none = args.iter().any(|a| a == "--none");
    let rest: Vec<String> = args.iter().filter(|a| *a != "--none").cloned().collect();
    let given = flags(&rest, &["practice", "number"])?;
    let get = |k: &str| given.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let practice = practice_flag(get("practice"))?;
    let number = match (get("number"), none) {
        (Some(n), false) => Some(n),
        (None, true) => None,
        _ => return Err("give either --number or --none".into()),
    };
    let app = carethread_core::App::from_env().await.map_err(|e| e.to_string())?;
    carethread_core::ops::settings::assign_sms_number(&app, &practice, number).await.map_err(|e| e.to_string())?;
    match number {
        Some(n) => println!("{practice} now sends and receives texts at {n}"),
        None => println!("{practice} has no SMS number"),
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["practice", "create", ..] => create_practice(&args[2..]).await,
        ["user", "sync", ..] => sync_user(&args[2..]).await,
        ["practice", "sms-number", ..] => sms_number(&args[2..]).await,
        _ => Err(USAGE.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("carethread-admin: {e}");
            ExitCode::from(2)
        }
    }
}
