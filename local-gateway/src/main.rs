//! `local-gateway`: the API on 127.0.0.1 against the local AWS stack (see `make dev`).
//! Environment: the functions' own (TABLE_NAME, BUCKET_NAME, KMS_KEY_ID, TOPIC_ARN,
//! USER_POOL_ID), the operator's credentials and AWS_ENDPOINT_URL, USER_POOL_CLIENT_ID,
//! FUNCTION_ROLE_PREFIX (each function's role) and GATEWAY_ADDR (default 127.0.0.1:3000).

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    carethread_core::logging::init();
    let addr = std::env::var("GATEWAY_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = carethread_core::app::Config::from_env()?;
    let functions = local_gateway::Functions::new(&sdk, &config, &Default::default()).await;
    let authorizer = local_gateway::Authorizer::from_env()?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "local gateway listening");
    let gateway = local_gateway::Gateway::new(functions, authorizer);
    // The stream triggers, as Lambda would run them: about once a second.
    let pump =
        local_gateway::stream::StreamPump::for_table(&sdk, &config.table_name).await.map_err(|e| e.to_string())?;
    let pumped = gateway.clone();
    tokio::spawn(async move {
        loop {
            match pump.pump(&pumped.functions).await {
                Ok(r) if r.pending > 0 => tracing::warn!(pending = r.pending, "notifications wait for a retry"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the table stream failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
    let served = gateway.clone();
    axum::serve(listener, local_gateway::router(served))
        .with_graceful_shutdown(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await?;
    gateway.functions.record_operations();
    Ok(())
}
