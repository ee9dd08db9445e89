//! The detector table: one entry per documented credential format.

use super::validate::{
    ASSIGNMENT, COMPARISON, K8S_SECRET_DATA, KEY_VALUE_ARGS, KEYWORDS, XML_ELEMENT,
    check_assignment, check_auth_header, check_bundler, check_k8s_data, check_private_key,
    check_slack, check_twilio, check_url, check_user_pass, check_vendor_value, check_xml_setting,
};
use super::{Check, Gate, Spec, Window};
use crate::classify::finding::{Confidence, FindingKind};
use crate::classify::text::{classes, entropy, is_placeholder};

#[allow(
    clippy::too_many_lines,
    reason = "one table, one entry per documented format"
)]
pub(super) fn specs() -> Vec<Spec> {
    use FindingKind as K;
    use Window::{Block, Line};
    let spec = |kind, anchors, pattern, check| Spec {
        kind,
        anchors,
        pattern,
        check,
        window: Line,
        gate: Gate::Always,
    };
    // The value must not be a placeholder and must look random: 3 bits per byte or more.
    let vendor_keyword = |anchors, pattern| Spec {
        kind: K::VendorToken,
        anchors,
        pattern,
        check: Check::Custom(check_vendor_value),
        window: Line,
        gate: Gate::Always,
    };
    let keyword = |anchors, pattern, check, gate| Spec {
        kind: K::CredentialAssignment,
        anchors,
        pattern,
        check,
        window: Line,
        gate,
    };
    vec![
        Spec {
            kind: K::PrivateKey,
            anchors: &["-----BEGIN"],
            pattern: r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<body>(?s:.)*?)(?:(?P<end>-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)|\z)",
            check: Check::Custom(check_private_key),
            window: Block,
            gate: Gate::Always,
        },
        spec(
            K::AwsAccessKeyId,
            &["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
            r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
            Check::Custom(|caps| {
                (!is_placeholder(caps.get(0)?.as_str())).then_some(Confidence::High)
            }),
        ),
        Spec {
            kind: K::AwsSecretKey,
            anchors: &["secret", "Secret", "SECRET"],
            pattern: r#"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?\s*(?:=|:|=>|:=)\s*["']?(?P<v>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            check: Check::Entropy(3.0),
            window: Line,
            gate: Gate::Assignment,
        },
        spec(
            K::GcpKey,
            &["AIza"],
            r"\bAIza[0-9A-Za-z_\-]{35}(?:[^0-9A-Za-z_\-]|$)",
            Check::Custom(|caps| {
                let v = caps.get(0)?.as_str();
                let key = v.get(..39)?;
                (!is_placeholder(key) && entropy(key.as_bytes()) >= 3.5 && classes(key) == 3)
                    .then_some(Confidence::High)
            }),
        ),
        spec(
            K::GcpKey,
            &["service_account"],
            r#""type"\s*:\s*"service_account""#,
            Check::Format,
        ),
        spec(
            K::AzureKey,
            &["AccountKey="],
            r"AccountKey=(?P<v>[A-Za-z0-9+/]{86}==)",
            Check::Entropy(4.0),
        ),
        spec(
            K::AzureKey,
            // Client secrets carry a format version digit (7 or 8 so far) before `Q~`.
            &["7Q~", "8Q~", "secret", "Secret", "SECRET"],
            r"(?:^|[^A-Za-z0-9_~.\-])(?P<v>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)",
            Check::Entropy(3.5),
        ),
        spec(
            K::GithubToken,
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::GitlabToken,
            &[
                "glpat-",
                "glptt-",
                "gldt-",
                "glrt-",
                "gloas-",
                "glimt-",
                "GR1348941",
            ],
            r"\b(?:glpat-[A-Za-z0-9_\-]{20,}|glptt-[0-9a-f]{40}|gl(?:dt|rt|soat|ffct|ft)-[A-Za-z0-9_\-]{20}|glcbt-[0-9a-fA-F]{1,5}_[A-Za-z0-9_\-]{20}|gloas-[A-Za-z0-9_\-]{64}|glimt-[A-Za-z0-9_\-]{25}|glagent-[A-Za-z0-9_\-]{50}|GR1348941[A-Za-z0-9_\-]{20,64})(?:[^A-Za-z0-9_\-]|$)",
            Check::Entropy(3.0),
        ),
        spec(
            K::SlackToken,
            &["xox", "xapp-"],
            r"\b(?:xox[abposr]|xoxe\.xox[bp]|xoxe|xapp)-(?:[0-9A-Za-z]+-)+[0-9A-Za-z]{6,}",
            Check::Custom(check_slack),
        ),
        spec(
            K::SlackWebhook,
            &["hooks.slack.com"],
            r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,}",
            Check::Format,
        ),
        spec(
            K::StripeKey,
            &["k_live_", "k_test_", "whsec_"],
            r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{32,})",
            Check::Entropy(3.0),
        ),
        spec(
            K::TwilioKey,
            &["twilio", "Twilio"],
            r"\b(?:AC|SK)[0-9a-fA-F]{32}\b",
            Check::Custom(check_twilio),
        ),
        spec(
            K::SendgridKey,
            &["SG."],
            r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b",
            Check::Entropy(3.5),
        ),
        spec(
            K::NpmToken,
            &["npm_", "_authToken"],
            r"\bnpm_[A-Za-z0-9]{36}\b|//[A-Za-z0-9.\-]+(?::\d+)?(?:/[^\s:]*)?/:_authToken=(?P<v>[A-Za-z0-9_\-.]{8,})",
            Check::Entropy(3.0),
        ),
        spec(
            K::PypiToken,
            &["pypi-Ag"],
            r"\bpypi-Ag[A-Za-z0-9_\-]{50,}",
            Check::Format,
        ),
        spec(
            K::Jwt,
            &["eyJ"],
            r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}(?:\.[A-Za-z0-9_\-]*)?",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["T3BlbkFJ"],
            r"\bsk-(?:[A-Za-z0-9]+-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["sk-ant-"],
            r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{93}AA\b",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["hf_", "api_org_"],
            r"\b(?:hf_|api_org_)[A-Za-z]{34}\b",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["AGE-SECRET-KEY-1"],
            r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["ops_eyJ"],
            r"\bops_eyJ[A-Za-z0-9+/=_\-]{100,}",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["A3-"],
            r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["dapi"],
            r"\bdapi[a-f0-9]{32}(?:-\d)?\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["ATATT3"],
            r"\bATATT3[A-Za-z0-9_\-=]{186}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["sntrys_", "sntryu_"],
            r"\b(?:sntrys_eyJ[A-Za-z0-9+/=_\-]{50,}|sntryu_[a-f0-9]{64})",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["ntn_"],
            r"\bntn_\d{11}[A-Za-z0-9]{35}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["pplx-"],
            r"\bpplx-[A-Za-z0-9]{48}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["hvs.", "hvb."],
            r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["HRKU-"],
            r"\bHRKU-AA[0-9A-Za-z_\-]{58}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["sha256~"],
            r"sha256~[A-Za-z0-9_\-]{43}",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["ABSKQmVkcm9ja0FQSUtleS", "bedrock-api-key-"],
            r"ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{110,}={0,2}|bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%&\-]*",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["v1.0-"],
            r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["s-s4t2"],
            r"\bs-s4t2(?:ud|af)-[a-f0-9]{64}\b",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["tk-us-"],
            r"\btk-us-[A-Za-z0-9_\-]{48}",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["ico-"],
            r"(?:^|[^A-Za-z0-9_.\-])(?P<v>ico-[A-Za-z0-9]{32})\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["sq0", "EAAA"],
            r"\b(?:sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,43}|EAAA[A-Za-z0-9_\-]{60})\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["EAA"],
            r"\bEAA[MC][A-Za-z0-9]{80,}",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["shp"],
            r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &[
                "dp.pt.", "_v1_", "lin_api_", "PMAK-", "NRAK-", "glsa_", "glc_",
            ],
            r"\b(?:dp\.pt\.[A-Za-z0-9]{43}|do[por]_v1_[a-f0-9]{64}|lin_api_[A-Za-z0-9]{40}|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|NRAK-[A-Z0-9]{27}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2})\b",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["sgp_"],
            r"\bsgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["FlyV1 fm", "fo1_"],
            r"FlyV1 fm[12]r?_[A-Za-z0-9+/=,_\-]{100,}|\bfo1_[A-Za-z0-9_\-]{43}",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["atlasv1"],
            r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9\-_=]{60,70}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &[":AA"],
            r"(?:^|[^A-Za-z0-9_])(?P<v>\d{8,10}:AA[A-Za-z0-9_\-]{33})(?:[^A-Za-z0-9_\-]|$)",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["-us"],
            r"\b[0-9a-f]{32}-us\d{1,2}\b",
            Check::Entropy(3.0),
        ),
        // Vendors whose credentials have a documented shape but no prefix: the vendor's name
        // must be the key the value is assigned to (`CLOUDFLARE_API_KEY = "…"`).
        vendor_keyword(
            &["cloudflare", "Cloudflare", "CLOUDFLARE"],
            // Global API key: 37 hex digits; API token: 40 characters.
            concat!(
                r#"(?P<key>(?i:cloudflare)[A-Za-z0-9_.\-]{0,40})["']?\s*(?:=|:|=>|:=)\s*["']?"#,
                r"(?P<v>[a-f0-9]{37}|[A-Za-z0-9_\-]{40})(?:[^A-Za-z0-9_\-]|$)"
            ),
        ),
        vendor_keyword(
            &["sumo", "Sumo", "SUMO"],
            // Sumo Logic access ids: `su` and twelve alphanumerics.
            concat!(
                r#"(?P<key>(?i:sumo)[A-Za-z0-9_.\-]{0,40})["']?\s*(?:=|:|=>|:=)\s*["']?"#,
                r"(?P<v>su[A-Za-z0-9]{12})(?:[^A-Za-z0-9_\-]|$)"
            ),
        ),
        vendor_keyword(
            &["sourcegraph", "Sourcegraph", "SOURCEGRAPH"],
            // Sourcegraph access tokens from before the `sgp_` prefix: 40 hex digits.
            concat!(
                r#"(?P<key>(?i:sourcegraph)[A-Za-z0-9_.\-]{0,40})["']?\s*(?:=|:|=>|:=)\s*["']?"#,
                r"(?P<v>[a-fA-F0-9]{40})(?:[^A-Za-z0-9_\-]|$)"
            ),
        ),
        vendor_keyword(
            &["cloudant", "Cloudant", "CLOUDANT"],
            // IBM Cloudant: API keys are 24 lowercase letters, passwords 64 hex digits.
            concat!(
                r#"(?P<key>(?i:cloudant)[A-Za-z0-9_.\-]{0,40})["']?\s*(?:=|:|=>|:=)\s*["']?"#,
                r"(?P<v>[a-f0-9]{64}|[a-z]{24})(?:[^A-Za-z0-9_\-]|$)"
            ),
        ),
        vendor_keyword(
            &["facebook", "Facebook", "FACEBOOK"],
            // An app access token is `{app id}|{app secret}`, the id 15 or 16 digits.
            r"(?:^|[^0-9])\d{15,16}(?:\||%7[Cc])(?P<v>[A-Za-z0-9_\-]{27,40})(?:[^A-Za-z0-9_\-]|$)",
        ),
        vendor_keyword(
            &["facebook", "Facebook", "FACEBOOK"],
            // An app secret: 32 hex digits.
            concat!(
                r#"(?P<key>(?i:facebook)[A-Za-z0-9_.\-]{0,40})["']?\s*(?:=|:|=>|:=)\s*["']?"#,
                r"(?P<v>[a-f0-9]{32})(?:[^A-Za-z0-9_\-]|$)"
            ),
        ),
        spec(
            K::VendorToken,
            &["AKCp"],
            r"\bAKCp[A-Za-z0-9]{69}\b",
            Check::Entropy(3.5),
        ),
        Spec {
            kind: K::UrlCredentials,
            anchors: &["://"],
            pattern: r#"[A-Za-z][A-Za-z0-9+.\-]{1,30}://(?P<v>(?P<user>[^\s:/@"'<>]{0,128}):(?P<pw>[^\s@/"'<>]{1,256}))@[A-Za-z0-9.\-_\[\]%]+"#,
            check: Check::Custom(check_url),
            window: Line,
            gate: Gate::Userinfo,
        },
        spec(
            K::CredentialAssignment,
            &["-u ", "--user"],
            r#"(?:^|\s)(?:-u|--user)\s*(?P<v>["']?(?P<user>[^\s:"']{1,64})["']?:["']?(?P<pw>[^\s"']*)["']?)"#,
            Check::Custom(check_user_pass),
        ),
        keyword(
            &["auth", "Auth", "AUTH"],
            r#"(?i)\bauthorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|apikey|sso-key)\s+)?(?P<v>[A-Za-z0-9._~+/=\-:]{8,})"#,
            Check::Custom(check_auth_header),
            Gate::Assignment,
        ),
        spec(
            K::CredentialAssignment,
            &["BUNDLE_"],
            r#"\bBUNDLE_[A-Z0-9_]+__[A-Z]+\s*[:=]\s*["']?(?P<v>[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+)"#,
            Check::Custom(check_bundler),
        ),
        keyword(
            KEYWORDS,
            r#"(?i)key\s*=\s*"(?P<key>[^"]{1,64})"\s+value\s*=\s*"(?P<v>[^"]{1,256})""#,
            Check::Custom(check_xml_setting),
            Gate::XmlSetting,
        ),
        Spec {
            kind: K::CredentialAssignment,
            anchors: KEYWORDS,
            pattern: XML_ELEMENT,
            check: Check::Custom(check_xml_setting),
            window: Block,
            gate: Gate::XmlTag,
        },
        keyword(
            KEYWORDS,
            KEY_VALUE_ARGS,
            Check::Custom(check_xml_setting),
            Gate::CallArgument,
        ),
        Spec {
            kind: K::CredentialAssignment,
            anchors: &["kind: Secret", "kind: secret", "kind: \""],
            pattern: K8S_SECRET_DATA,
            check: Check::Custom(check_k8s_data),
            window: Block,
            gate: Gate::Always,
        },
        keyword(
            KEYWORDS,
            COMPARISON,
            Check::Custom(check_xml_setting),
            Gate::Comparison,
        ),
        keyword(
            KEYWORDS,
            ASSIGNMENT,
            Check::Custom(check_assignment),
            Gate::KeyedAssignment,
        ),
    ]
}
