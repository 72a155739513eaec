//! `local-gateway`: the API on 127.0.0.1 against the local AWS stack (see `make dev`).
//! Environment: the functions' own (TABLE_NAME, BUCKET_NAME, KMS_KEY_ID, TOPIC_ARN,
//! AWS_ENDPOINT_URL), plus LOCAL_JWT_SECRET and GATEWAY_ADDR (default 127.0.0.1:3000).

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    lambda_http::tracing::init_default_subscriber();
    let secret = std::env::var("LOCAL_JWT_SECRET").map_err(|_| "LOCAL_JWT_SECRET is not set")?;
    let addr = std::env::var("GATEWAY_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let app = carethread_core::App::from_env().await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "local gateway listening");
    let gateway = local_gateway::Gateway::new(app, secret.into_bytes());
    // The stream trigger of the notifier, as Lambda would run it: about once a second.
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let table = std::env::var("TABLE_NAME")?;
    let pump = local_gateway::stream::StreamPump::for_table(&sdk, &table).await.map_err(|e| e.to_string())?;
    let pumped = gateway.clone();
    tokio::spawn(async move {
        loop {
            match pump.pump(&pumped.app).await {
                Ok(r) if r.pending > 0 => tracing::warn!(pending = r.pending, "notifications wait for a retry"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the table stream failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
    axum::serve(listener, local_gateway::router(gateway))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
