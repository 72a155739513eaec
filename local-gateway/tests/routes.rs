//! template.yaml declares exactly the routes the local gateway serves, each on the function
//! (binary) that serves it locally.

use std::collections::BTreeSet;

#[test]
fn template_routes_equal_the_gateway_route_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let template: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut declared = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("every function names its binary")
            .to_string();
        assert_eq!(resource["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"));
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() == Some("HttpApi") {
                let props = &event["Properties"];
                declared.insert((
                    props["Method"].as_str().unwrap().to_string(),
                    props["Path"].as_str().unwrap().to_string(),
                    binary.clone(),
                ));
            }
        }
    }
    let served: BTreeSet<_> = carethread_core::routes::ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string()))
        .collect();
    assert_eq!(declared, served);
}

#[test]
fn every_function_crate_has_a_sample_event() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for r in carethread_core::routes::ROUTES {
        assert!(root.join(format!("events/{}.json", r.function)).exists(), "events/{}.json", r.function);
        assert!(root.join(format!("functions/{}/Cargo.toml", r.function)).exists());
    }
}

/// The sample events are real API Gateway events for their function: lambda_http reads them,
/// the identity comes from their JWT claims, and their route belongs to that function.
#[test]
fn sample_events_parse_into_requests_with_identity() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut functions: Vec<&str> = carethread_core::routes::ROUTES.iter().map(|r| r.function).collect();
    functions.dedup();
    for f in functions {
        let text = std::fs::read_to_string(root.join(format!("events/{f}.json"))).unwrap();
        let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("events/{f}.json: {e}"));
        let caller =
            carethread_core::api::caller(&req).unwrap_or_else(|e| panic!("events/{f}.json has no usable claims: {e}"));
        assert!(caller.practice_id.starts_with("prc_"));
        let route = carethread_core::api::route_key(&req);
        assert!(
            carethread_core::routes::ROUTES
                .iter()
                .any(|r| r.function == f && format!("{} {}", r.method, r.path) == route),
            "events/{f}.json routes to {route}"
        );
    }
}

/// docs/openapi.yaml documents exactly the deployed routes, each on its function.
#[test]
fn openapi_paths_equal_the_route_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.yaml");
    let doc: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["openapi"].as_str(), Some("3.1.0"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, op) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap().to_uppercase();
            if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                let function = op["x-function"].as_str().expect("x-function").to_string();
                documented.insert((method, path.as_str().unwrap().to_string(), function));
            }
        }
    }
    let served: BTreeSet<_> = carethread_core::routes::ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string()))
        .collect();
    assert_eq!(documented, served);
}
