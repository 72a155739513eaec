//! The monthly cost model of the reference practice, from the counted calls and units.

use crate::*;

/// AWS list prices, us-east-1, as published on 2026-11-01 (the date the model was written).
pub(crate) mod price {
    pub const DATE: &str = "2026-11-01, us-east-1";
    pub const LAMBDA_GB_SECOND_ARM: f64 = 0.000_013_333_4;
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    pub const KMS_REQUEST: f64 = 0.03 / 10_000.0;
    pub const KMS_KEY_MONTH: f64 = 1.0;
    pub const SNS_PUBLISH: f64 = 0.50 / 1e6;
    pub const SMS_US: f64 = 0.00581 + 0.00302; // SNS + typical US carrier fee
    pub const S3_GET: f64 = 0.0004 / 1000.0;
    pub const S3_PUT: f64 = 0.005 / 1000.0;
    pub const S3_GB_MONTH: f64 = 0.023;
    pub const API_GATEWAY_HTTP_REQUEST: f64 = 1.00 / 1e6;
}

/// The reference practice (issue 8): 10 staff, 2,000 patients, 300 messages a day, each staff
/// user loading the inbox 20 times an hour for 8 hours a day, 30 attachment downloads a day.
pub(crate) fn cost_model(results: &[OpResult]) -> Value {
    let per = |name: &str| results.iter().find(|r| r.name == name).expect("measured");
    let calls = |r: &OpResult, prefix: &str| {
        r.calls_per_request.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum::<f64>()
    };
    let days = 30.0;
    let messages = 300.0 * days;
    let pages = 10.0 * 20.0 * 8.0 * days;
    let downloads = 30.0 * days;
    // Per message: a third are new conversations, two thirds replies; each has ~1 page of
    // its thread read by the recipient and the stats badge polled with every page.
    let compose = per("compose");
    let reply = per("reply (2 participants)");
    let page = per("list-inbox: all");
    let stats = per("stats");
    let thread = per("get-conversation (20 messages)");
    let presign = per("attachment presign");
    let ops = [
        (compose, messages / 3.0),
        (reply, messages * 2.0 / 3.0),
        (thread, messages),
        (page, pages),
        (stats, pages),
        (presign, downloads),
    ];
    let requests: f64 = ops.iter().map(|(_, n)| n).sum();
    // Capacity units as measured per operation (see capacity.rs).
    let wru: f64 = ops.iter().map(|(r, n)| n * r.write_units_per_request).sum();
    let rru: f64 = ops.iter().map(|(r, n)| n * r.read_units_per_request).sum();
    let kms: f64 = ops.iter().map(|(r, n)| n * calls(r, "KMS.")).sum();
    // Lambda: 128 MB; duration ≈ the AWS round trips (~8 ms each in-region) + CPU.
    let gb_seconds: f64 = ops
        .iter()
        .map(|(r, n)| {
            let aws = r.calls_per_request.values().sum::<f64>();
            n * (aws * 0.008 + r.cpu_us_median as f64 / 1e6) * 0.125
        })
        .sum();
    let notifications = messages * 1.5;
    let lines = json!({
        "lambda": gb_seconds * price::LAMBDA_GB_SECOND_ARM + requests * price::LAMBDA_REQUEST,
        "apiGateway": requests * price::API_GATEWAY_HTTP_REQUEST,
        "dynamodb": wru * price::DYNAMODB_WRITE_UNIT + rru * price::DYNAMODB_READ_UNIT,
        "kms": kms * price::KMS_REQUEST + price::KMS_KEY_MONTH,
        "snsPublish": notifications * price::SNS_PUBLISH,
        "s3": downloads * price::S3_GET + downloads * price::S3_PUT + 2.0 * price::S3_GB_MONTH,
    });
    let total: f64 = lines.as_object().unwrap().values().filter_map(Value::as_f64).sum();
    let sms_share = 0.5;
    json!({
        "pricesAsOf": price::DATE,
        "assumptions": "10 staff, 2,000 patients, 300 messages/day (1/3 new conversations), 1,600 inbox pages/day each with a stats poll, every message's thread read once, 30 downloads/day, 2 GB stored, 128 MB arm64 functions; capacity units as measured per operation",
        "monthly": lines,
        "monthlyTotalBeforeSms": total,
        "perThousandMessages": total / messages * 1000.0,
        "sms": { "perSms": price::SMS_US, "shareOfPatientNotificationsBySms": sms_share, "monthly": messages * 0.5 * sms_share * price::SMS_US },
        "requestsPerMonth": requests,
        "writeUnits": wru,
        "readUnits": rru,
        "kmsRequests": kms,
    })
}
