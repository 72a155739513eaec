//! One `App` per function, each with its own role's credentials, as Lambda runs them: the
//! local stack enforces IAM, so a call missing from a function's role in template.yaml fails
//! here as it would in AWS (DESIGN.md, The local stack). The roles are made by
//! infra/local_stack.py from the template; `FUNCTION_ROLE_PREFIX` + the function's name is the
//! role's ARN. Every app counts its calls in one shared counter, which tests read.

use aws_config::sts::AssumeRoleProvider;
use aws_config::SdkConfig;
use carethread_core::app::{Config, Hooks};
use carethread_core::calls::CallCounter;
use carethread_core::App;
use std::collections::HashMap;

/// Every function of template.yaml: the HTTP ones, the stream and SNS consumers, the schedules.
pub const FUNCTIONS: [&str; 24] = [
    "compose",
    "reply",
    "list-inbox",
    "get-conversation",
    "assign",
    "attachment-presign",
    "directory",
    "conversation-state",
    "drafts",
    "settings",
    "tasks",
    "saved-replies",
    "broadcasts",
    "reports",
    "delete",
    "notifier",
    "audit-chain",
    "sms-inbound",
    "retention-purge",
    "attachment-sweeper",
    "unread-reminders",
    "reply-escalations",
    "evisits",
    "evisit-windows",
];

pub struct Functions {
    apps: HashMap<&'static str, App>,
    /// The operator's own rights: the operator command (`POST /_local/practices`), and what a
    /// test reads back to check the functions' work.
    pub operator: App,
    pub calls: CallCounter,
    /// The invitations' temporary passwords (`POST /_local/invitations`).
    pub mailbox: crate::invitations::Mailbox,
}

impl Functions {
    /// `operator` holds the operator credentials of `.local/*/env`; with FUNCTION_ROLE_PREFIX
    /// set, each function assumes its own role from them. `hooks` go into every client of
    /// every function (the fault tests' switches, the bench's probes).
    pub async fn new(operator: &SdkConfig, config: &Config, hooks: &Hooks) -> Functions {
        let calls = CallCounter::default();
        let prefix = std::env::var("FUNCTION_ROLE_PREFIX").ok().filter(|p| !p.is_empty());
        let mut apps = HashMap::new();
        for name in FUNCTIONS {
            let sdk = match &prefix {
                Some(prefix) => role_config(operator, &format!("{prefix}{name}"), name).await,
                None => operator.clone(),
            };
            apps.insert(name, App::with_hooks(&sdk, config.clone(), calls.child(), hooks));
        }
        let operator_app = App::with_hooks(operator, config.clone(), calls.clone(), hooks);
        let mailbox = crate::invitations::Mailbox::new(operator, config.user_pool_id.clone());
        Functions { apps, operator: operator_app, calls, mailbox }
    }

    /// The AWS operations each function performed so far (leaving out calls refused for want
    /// of a permission, which tests make on purpose), with the parts of its transactions,
    /// for the check that each is in its role (infra/iam_check.py):
    /// `{"compose": ["DynamoDB.Query", "DynamoDB.TransactWriteItems:Put", ...], ...}`.
    pub fn operations(&self) -> serde_json::Value {
        let by_function: serde_json::Map<String, serde_json::Value> = self
            .apps
            .iter()
            .map(|(name, app)| {
                let mut operations = app.calls.performed();
                operations.extend(app.calls.parts().into_keys());
                (name.to_string(), serde_json::json!(operations))
            })
            .collect();
        serde_json::Value::Object(by_function)
    }

    /// Appends `operations()` as one JSON line to the file CALLS_LOG names, if it names one
    /// (`make test` sets it; the check reads every line).
    pub fn record_operations(&self) {
        let Some(path) = std::env::var_os("CALLS_LOG") else { return };
        let line = format!("{}\n", self.operations());
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
        if let Err(e) = written {
            tracing::warn!(error = %e, "the operations log could not be written");
        }
    }

    /// The app of one function of `FUNCTIONS`.
    pub fn app(&self, function: &str) -> &App {
        self.apps.get(function).unwrap_or_else(|| panic!("no function {function} in FUNCTIONS"))
    }
}

/// The SDK configuration of a role assumed from the operator's (a function's own identity).
pub async fn role_config(operator: &SdkConfig, role_arn: &str, session: &str) -> SdkConfig {
    let provider = AssumeRoleProvider::builder(role_arn).session_name(session).configure(operator).build().await;
    // Region and endpoint from the environment, as for the operator; only the identity differs.
    aws_config::defaults(aws_config::BehaviorVersion::latest()).credentials_provider(provider).load().await
}
