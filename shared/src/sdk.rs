//! How a deployed function reaches AWS: an SDK configuration read from what Lambda puts in
//! the environment, and an HTTPS client that trusts the roots AWS endpoints chain to.
//!
//! Both are about cold starts (issue 18). The SDK's default client loads the platform's root
//! certificates when a function starts (on Lambda's image: the bundle and every file of
//! /etc/ssl/certs), half of a function's init; the five roots of Amazon Trust Services, which
//! sign every AWS service endpoint's certificate, are compiled in instead. Verification stays
//! on: anything else is refused (the test below). And Lambda gives a function its region and
//! its role's credentials as environment variables, so the configuration reads no profile
//! file and never asks the instance metadata service.

use aws_config::environment::{EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Amazon Root CA 1-4 and the Starfield Services root (PEM, with their fingerprints).
const AMAZON_TRUST_SERVICES: &str = include_str!("../certs/amazon-trust-services.pem");

/// The configuration of a function on Lambda: region, credentials and (locally)
/// `AWS_ENDPOINT_URL` from the environment, nothing from files or the network.
pub async fn from_lambda_environment() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client(aws_roots()))
        .region(EnvironmentVariableRegionProvider::new())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        // An empty profile: the settings a profile could hold come from the environment only.
        .profile_files(EnvConfigFiles::builder().with_contents(EnvConfigFileKind::Config, "").build())
        .load()
        .await
}

/// A client made the first time a request needs it. Making a service's client costs about
/// 0.35 ms (its configuration and endpoint rules), and most functions never call most
/// services: list-inbox no S3, SNS or Cognito, a warm compose no KMS.
pub struct OnFirstUse<C> {
    make: Box<dyn Fn() -> C + Send + Sync>,
    made: std::sync::OnceLock<C>,
}

impl<C> OnFirstUse<C> {
    pub fn new(make: impl Fn() -> C + Send + Sync + 'static) -> Self {
        OnFirstUse { make: Box::new(make), made: std::sync::OnceLock::new() }
    }

    pub fn get(&self) -> &C {
        self.made.get_or_init(|| (self.make)())
    }
}

/// A client already made (tests that give a function clients of their own).
impl<C: Clone + Send + Sync + 'static> From<C> for OnFirstUse<C> {
    fn from(client: C) -> Self {
        let made = std::sync::OnceLock::new();
        let _ = made.set(client.clone());
        OnFirstUse { make: Box::new(move || client.clone()), made }
    }
}

fn aws_roots() -> TrustStore {
    TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES.as_bytes())
}

fn https_client(trust: TrustStore) -> SharedHttpClient {
    let context = TlsContext::builder().with_trust_store(trust).build().expect("a trust store is a valid TLS context");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A certificate for 127.0.0.1 from a test CA no AWS root signed (valid until 2126), its
    /// key, and that CA.
    const TEST_CERT: &str = include_str!("../certs/test-server.pem");
    const TEST_KEY: &str = include_str!("../certs/test-server.key");
    const TEST_CA: &str = include_str!("../certs/test-ca.pem");

    /// A TLS endpoint on 127.0.0.1 with a certificate from the test CA that answers every request
    /// as DynamoDB answers ListTables. Returns its URL and the count of requests it answered.
    async fn untrusted_endpoint() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let cert = CertificateDer::from_pem_slice(TEST_CERT.as_bytes()).unwrap();
        let key = PrivateKeyDer::from_pem_slice(TEST_KEY.as_bytes()).unwrap();
        let config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert], key)
                .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = answered.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                let count = count.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let mut request = vec![0u8; 16 * 1024];
                    if tls.read(&mut request).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let body = r#"{"TableNames":[]}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (url, answered)
    }

    async fn list_tables(url: &str, client: SharedHttpClient) -> Result<(), String> {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .endpoint_url(url)
            .http_client(client)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config).list_tables().send().await.map(|_| ()).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn the_compiled_in_roots_are_the_five_of_amazon_trust_services() {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let roots: Vec<_> = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES.as_bytes()).collect();
        assert_eq!(roots.len(), 5, "Amazon Root CA 1-4 and Starfield Services G2");
        assert!(roots.iter().all(|r| r.is_ok()), "every root parses");
    }

    #[tokio::test]
    async fn sec_tls_an_endpoint_with_an_untrusted_certificate_is_refused() {
        let (url, answered) = untrusted_endpoint().await;

        let refused = list_tables(&url, https_client(aws_roots())).await;

        let error = refused.expect_err("a certificate no Amazon root signed must not be accepted");
        assert!(error.contains("UnknownIssuer"), "refused because no trusted root signed it: {error}");
        assert_eq!(answered.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the endpoint");
    }

    #[tokio::test]
    async fn sec_tls_the_same_endpoint_is_reached_once_its_certificate_is_trusted() {
        // The control for the test above: the endpoint works, so the refusal was the trust.
        let (url, answered) = untrusted_endpoint().await;
        let trusting = TrustStore::empty().with_pem_certificate(TEST_CA.as_bytes());

        list_tables(&url, https_client(trusting)).await.expect("a trusted certificate is accepted");

        assert_eq!(answered.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
