//! TLS is verified whichever TLS feature is on: run by `cargo test` with the
//! default (`rustls`) and by `cargo xtask tls` with `rustls-ring`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use convo_runtime::{ClientOptions, http_client};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server on 127.0.0.1 with a fresh self-signed certificate for
/// `127.0.0.1`: its port, the certificate, and how many handshakes completed.
async fn self_signed_server() -> (u16, rustls::pki_types::CertificateDer<'static>, Arc<AtomicU64>) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&handshakes);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, counted) = (acceptor.clone(), Arc::clone(&counted));
            tokio::spawn(async move {
                // Held until the client hangs up; no HTTP answer is needed.
                if let Ok(_tls) = acceptor.accept(tcp).await {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    (port, cert, handshakes)
}

fn mentions_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string().to_lowercase();
        if text.contains("certificate") || text.contains("unknownissuer") {
            return true;
        }
        current = e.source();
    }
    false
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused() {
    let (port, cert, handshakes) = self_signed_server().await;

    // The control: a client that trusts this certificate completes a
    // handshake, so a refusal below is the certificate check.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let trusting = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(trusting)).connect(name, tcp).await.unwrap();
    drop(tls);
    for _ in 0..100 {
        if handshakes.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(handshakes.load(Ordering::SeqCst), 1, "the control client's handshake");

    let (client, _state) = http_client(Default::default(), &ClientOptions::default()).unwrap();
    let error = client.get(format!("https://127.0.0.1:{port}/")).send().await.unwrap_err();
    assert!(mentions_certificate(&error), "not a certificate error: {error:?}");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(handshakes.load(Ordering::SeqCst), 1, "the client completed a handshake with a self-signed server");
}
