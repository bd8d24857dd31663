//! The body of a secure conversation message (OPC 10000-6 §6.7.2.5): the
//! ExpandedNodeId of its type, then the request or response header, then,
//! for the services that say who is talking or how, their parameters
//! (OPC 10000-4 §5.4–§5.6). Everything else in a body is left unread.

use super::binary::{Error, NodeId, Reader, Result};
use super::names::{ServiceType, id, token};
use super::{
    Application, Endpoint, MAX_ENDPOINTS, MAX_SERVERS, MAX_USER_TOKENS, OpcuaFields, UserToken,
    anomaly, text,
};
use crate::event::Anomalies;

/// Decodes a message body into `f`, returning its service type when the
/// type id is a standard service. `cut` says the body was cut short for
/// keeping (an oversized chunk or message): running out of bytes is then
/// not an anomaly.
pub(super) fn decode(
    body: &[u8],
    cut: bool,
    f: &mut OpcuaFields,
    a: &mut Anomalies,
) -> Option<ServiceType> {
    let mut r = Reader::new(body);
    let type_id = match r.expanded_node_id() {
        Ok(id) => id,
        Err(e) => {
            report(e, cut, a);
            return None;
        }
    };
    let Some(numeric) = type_id.numeric else {
        a.add(anomaly::NON_NUMERIC_SERVICE_ID);
        return None;
    };
    f.service_id = Some(numeric);
    if type_id.namespace != 0 {
        f.service_namespace = Some(type_id.namespace);
    }
    let service = (type_id.namespace == 0)
        .then(|| ServiceType::lookup(numeric))
        .flatten();
    let Some(service) = service else {
        a.add(anomaly::UNKNOWN_SERVICE);
        return None;
    };
    if let Err(e) = parameters(&mut r, numeric, service.is_response, f, a) {
        report(e, cut, a);
    }
    Some(service)
}

fn report(e: Error, cut: bool, a: &mut Anomalies) {
    match e {
        Error::Truncated if cut => {}
        Error::Truncated => a.add(anomaly::TRUNCATED_BODY),
        Error::Invalid => a.add(anomaly::INVALID_ENCODING),
    }
}

/// The header, then what the decoder reports of the service's parameters.
fn parameters(
    r: &mut Reader<'_>,
    service: u32,
    is_response: bool,
    f: &mut OpcuaFields,
    a: &mut Anomalies,
) -> Result<()> {
    if is_response {
        response_header(r, f)?;
    } else {
        request_header(r, f)?;
    }
    match service {
        id::OPEN_SECURE_CHANNEL_REQUEST => {
            r.u32()?; // client protocol version
            f.request_type = Some(r.u32()?);
            f.security_mode = Some(r.u32()?);
            r.string()?; // client nonce
            f.requested_lifetime = Some(r.u32()?);
        }
        id::OPEN_SECURE_CHANNEL_RESPONSE => {
            r.u32()?; // server protocol version
            f.channel_id = Some(r.u32()?);
            f.token_id = Some(r.u32()?);
            r.skip(8)?; // created at
            f.revised_lifetime = Some(r.u32()?);
        }
        id::GET_ENDPOINTS_REQUEST | id::FIND_SERVERS_REQUEST => {
            f.endpoint_url = r.string()?.map(text);
        }
        id::GET_ENDPOINTS_RESPONSE => {
            endpoints(r, f)?;
        }
        id::FIND_SERVERS_RESPONSE => {
            let n = r.array_len()?;
            for _ in 0..n {
                let server = application(r)?;
                if f.servers.len() < MAX_SERVERS {
                    f.servers.push(server);
                }
            }
        }
        id::REGISTER_SERVER_REQUEST | id::REGISTER_SERVER2_REQUEST => {
            f.application = Some(Box::new(registered_server(r)?));
        }
        id::CREATE_SESSION_REQUEST => {
            let client = application(r)?;
            f.application = Some(Box::new(client));
            r.string()?; // server URI
            f.endpoint_url = r.string()?.map(text);
            f.session_name = r.string()?.map(text);
        }
        id::CREATE_SESSION_RESPONSE => {
            r.node_id()?; // session id
            r.node_id()?; // authentication token
            r.skip(8)?; // revised session timeout
            r.string()?; // server nonce
            r.string()?; // server certificate
            endpoints(r, f)?;
        }
        id::ACTIVATE_SESSION_REQUEST => {
            signature_data(r)?; // client signature
            for _ in 0..r.array_len()? {
                // Signed software certificates: certificate data, signature.
                r.string()?;
                r.string()?;
            }
            r.skip_strings()?; // locale ids
            identity_token(r, f, a)?;
        }
        _ => {}
    }
    Ok(())
}

/// RequestHeader (OPC 10000-4 §7.32): the request handle is reported.
fn request_header(r: &mut Reader<'_>, f: &mut OpcuaFields) -> Result<()> {
    r.node_id()?; // authentication token
    r.skip(8)?; // timestamp
    f.request_handle = Some(r.u32()?);
    r.u32()?; // return diagnostics
    r.string()?; // audit entry id
    r.u32()?; // timeout hint
    r.extension_object()?; // additional header
    Ok(())
}

/// ResponseHeader (OPC 10000-4 §7.33): request handle and service result.
fn response_header(r: &mut Reader<'_>, f: &mut OpcuaFields) -> Result<()> {
    r.skip(8)?; // timestamp
    f.request_handle = Some(r.u32()?);
    f.status = Some(r.u32()?);
    r.skip_diagnostic_info()?;
    r.skip_strings()?; // string table
    r.extension_object()?; // additional header
    Ok(())
}

/// SignatureData: algorithm, signature.
fn signature_data(r: &mut Reader<'_>) -> Result<()> {
    r.string()?;
    r.string()?;
    Ok(())
}

/// ApplicationDescription (OPC 10000-4 §7.2).
fn application(r: &mut Reader<'_>) -> Result<Application> {
    let application_uri = r.string()?.map(text);
    let product_uri = r.string()?.map(text);
    let application_name = r.localized_text()?.map(text);
    let application_type = Some(r.u32()?);
    r.string()?; // gateway server URI
    r.string()?; // discovery profile URI
    let discovery_url = first_string(r)?;
    Ok(Application {
        application_uri,
        product_uri,
        application_name,
        application_type,
        discovery_url,
    })
}

/// RegisteredServer (OPC 10000-4 §7.31), as the application it describes.
fn registered_server(r: &mut Reader<'_>) -> Result<Application> {
    let application_uri = r.string()?.map(text);
    let product_uri = r.string()?.map(text);
    let mut application_name = None;
    for _ in 0..r.array_len()? {
        let name = r.localized_text()?;
        if application_name.is_none() {
            application_name = name.map(text);
        }
    }
    let application_type = Some(r.u32()?);
    r.string()?; // gateway server URI
    let discovery_url = first_string(r)?;
    Ok(Application {
        application_uri,
        product_uri,
        application_name,
        application_type,
        discovery_url,
    })
}

/// An array of Strings, of which the first non-null is returned.
fn first_string(r: &mut Reader<'_>) -> Result<Option<String>> {
    let mut first = None;
    for _ in 0..r.array_len()? {
        let s = r.string()?;
        if first.is_none() {
            first = s.map(text);
        }
    }
    Ok(first)
}

/// An array of EndpointDescription (OPC 10000-4 §7.14): the endpoints
/// offered, and the first server description as the sender's application.
fn endpoints(r: &mut Reader<'_>, f: &mut OpcuaFields) -> Result<()> {
    for _ in 0..r.array_len()? {
        let endpoint_url = r.string()?.map(text);
        let server = application(r)?;
        if f.application.is_none() {
            f.application = Some(Box::new(server));
        }
        r.string()?; // server certificate
        let security_mode = r.u32()?;
        let security_policy_uri = r.string()?.map(text);
        let mut user_tokens = Vec::new();
        for _ in 0..r.array_len()? {
            // UserTokenPolicy: policy id, token type, issued token type,
            // issuer endpoint URL, security policy URI.
            r.string()?;
            let token_type = r.u32()?;
            r.string()?;
            r.string()?;
            let policy = r.string()?;
            if user_tokens.len() < MAX_USER_TOKENS {
                user_tokens.push(UserToken {
                    token_type,
                    security_policy_uri: policy.map(text),
                });
            }
        }
        r.string()?; // transport profile URI
        let security_level = r.u8()?;
        if f.endpoints.len() < MAX_ENDPOINTS {
            f.endpoints.push(Endpoint {
                endpoint_url,
                security_mode,
                security_policy_uri,
                security_level,
                user_tokens,
            });
        }
    }
    Ok(())
}

/// The user identity token of ActivateSession: its type, and for a user
/// name token the user name and whether a password is there and encrypted.
/// The password itself is never reported.
fn identity_token(r: &mut Reader<'_>, f: &mut OpcuaFields, a: &mut Anomalies) -> Result<()> {
    let (type_id, body) = r.extension_object()?;
    let kind = match type_id {
        NodeId {
            namespace: 0,
            numeric: Some(0),
        } => return Ok(()),
        NodeId {
            namespace: 0,
            numeric: Some(n),
        } => token::name(n).map(|name| (n, name)),
        _ => None,
    };
    let Some((kind, name)) = kind else {
        a.add(anomaly::UNKNOWN_IDENTITY_TOKEN);
        return Ok(());
    };
    f.identity_token = Some(name);
    let Some(body) = body else {
        return Ok(());
    };
    let mut t = Reader::new(body);
    t.string()?; // policy id
    if kind == token::USER_NAME {
        f.user_name = t.string()?.map(text);
        let password = t.string()?;
        f.password_present = Some(password.is_some_and(|p| !p.is_empty()));
        // An encryption algorithm URI says the password is encrypted with
        // the server's key; an empty one, that it travels in clear.
        let algorithm = t.string()?;
        f.password_encrypted = Some(algorithm.is_some_and(|a| !a.is_empty()));
    }
    Ok(())
}
