//! What every function, the local gateway and the operator command set up first: the log
//! subscriber, and a panic hook that logs where a panic happened and never its message. A
//! panic message quotes values (a slice cut inside "Renée" names the string), and the
//! default hook prints it to the log (SEC-3, security finding 2).

/// The default subscriber and the panic hook; once per process.
pub fn init() {
    lambda_http::tracing::init_default_subscriber();
    install_panic_hook();
}

/// Replaces the default panic hook (which prints the message) with one that logs only the
/// source location: enough to find the bug, nothing of the request.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!(at = %at, "panicked; the message is withheld, as it may quote request values");
    }));
}
