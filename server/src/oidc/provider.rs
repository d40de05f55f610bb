//! The provider, as a relying party sees it: discovery, the authorization request, the code
//! exchange and the ID token's checks, through the `openidconnect` crate.
//!
//! The crate does the protocol's hard parts (PKCE, the token request, the ID token's
//! signature against the provider's JWKS, `iss`, `aud`, `exp`, `nonce`). Three checks it
//! leaves to its caller are here: `azp` when the token has several audiences, the RFC 9207
//! `iss` parameter of the authorization response, and a constant-time `state` comparison.

use std::time::Duration;

use anyhow::Context;
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, RequestTokenError, Scope,
    TokenResponse,
    core::{
        CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
        CoreClientAuthMethod, CoreErrorResponseType, CoreGrantType, CoreIdToken, CoreIdTokenClaims,
        CoreIdTokenVerifier, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
        CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType,
        CoreSubjectIdentifierType,
    },
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Discovery fields the crate's core metadata does not name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    /// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
    pub end_session_endpoint: Option<EndSessionUrl>,
    /// RFC 9207: the provider adds `iss` to every authorization response.
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The client after discovery: authorization and token endpoints set.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointMaybeSet,
>;

/// Who this app is at the provider.
#[derive(Clone)]
pub struct Registration {
    /// `OIDC_ISSUER`, exactly as the provider names itself.
    pub issuer: String,
    /// `OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `OIDC_CLIENT_SECRET`.
    pub client_secret: secrecy::SecretString,
    /// This app's callback URL, registered at the provider.
    pub redirect_url: String,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

/// A discovered provider, ready for logins.
#[derive(Clone)]
pub struct Discovered {
    client: Client,
    issuer: String,
    token_url: String,
    client_id: String,
    end_session: Option<EndSessionUrl>,
    iss_parameter: bool,
}

impl std::fmt::Debug for Discovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovered")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// What goes wrong talking to a provider.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider did not answer, or answered nonsense (502 for the browser).
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    /// The token endpoint refused the code: `invalid_grant` for a code used twice, a wrong
    /// `code_verifier` or an expired code.
    #[error("the identity provider refused the code ({code}): {description}")]
    CodeRefused {
        /// The OAuth error code.
        code: String,
        /// The provider's description, if any.
        description: String,
    },
    /// The ID token failed a check.
    #[error("the ID token was refused: {0}")]
    IdToken(String),
}

/// What one login keeps between the redirect to the provider and the callback. Secret: it
/// stays on the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Challenge {
    /// The `state` sent to the provider.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE `code_verifier` whose S256 hash was sent as `code_challenge`.
    pub verifier: String,
}

/// The person as the provider's verified ID token describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `preferred_username`, if sent.
    pub preferred_username: Option<String>,
    /// `email`, if sent.
    pub email: Option<String>,
    /// `name`, if sent.
    pub name: Option<String>,
}

/// What the back-channel exchange returned, for the lab's evidence: never given to a browser.
#[derive(Debug, Clone)]
pub struct Exchanged {
    /// The verified person.
    pub person: Person,
    /// The ID token's claims, as JSON.
    pub claims: serde_json::Value,
    /// The ID token (compact JWT).
    pub id_token: String,
    /// The provider's access token (authlab never accepts it; the lab shows that).
    pub access_token: String,
}

/// A client for the provider's endpoints: redirects are never followed (a provider that
/// redirects its token endpoint elsewhere must not make this server fetch arbitrary URLs),
/// and every request is bounded in time.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the identity provider's HTTP client")
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl Discovered {
    /// Reads the provider's discovery document and its JWKS.
    pub async fn discover(
        registration: &Registration,
        http: &reqwest::Client,
    ) -> Result<Self, ProviderError> {
        let issuer = IssuerUrl::new(registration.issuer.clone())
            .map_err(|e| ProviderError::Unreachable(format!("OIDC_ISSUER: {e}")))?;
        let metadata = Metadata::discover_async(issuer, http)
            .await
            .map_err(|e| ProviderError::Unreachable(error_chain(&e)))?;
        let token_url = metadata
            .token_endpoint()
            .cloned()
            .ok_or_else(|| ProviderError::Unreachable("it names no token endpoint".into()))?;
        let extra = metadata.additional_metadata().clone();
        let token_endpoint = token_url.url().to_string();
        let redirect = RedirectUrl::new(registration.redirect_url.clone())
            .map_err(|e| ProviderError::Unreachable(format!("redirect URL: {e}")))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(registration.client_id.clone()),
            Some(ClientSecret::new(
                secrecy::ExposeSecret::expose_secret(&registration.client_secret).to_owned(),
            )),
        )
        .set_redirect_uri(redirect)
        .set_token_uri(token_url);
        Ok(Self {
            client,
            issuer: registration.issuer.clone(),
            token_url: token_endpoint,
            client_id: registration.client_id.clone(),
            end_session: extra.end_session_endpoint,
            iss_parameter: extra
                .authorization_response_iss_parameter_supported
                .unwrap_or(false),
        })
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The provider's authorization endpoint.
    pub fn authorization_endpoint(&self) -> url::Url {
        self.client.auth_uri().url().clone()
    }

    /// The provider's token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The provider's RP-initiated logout endpoint, if it has one.
    pub fn end_session(&self) -> Option<&EndSessionUrl> {
        self.end_session.as_ref()
    }

    /// This app's client id at the provider.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The authorization URL for a new login (scopes `openid profile email`, PKCE S256), and
    /// what the callback will need to check it.
    pub fn authorize(&self) -> (String, Challenge) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        (
            url.to_string(),
            Challenge {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
            },
        )
    }

    /// Checks the `iss` parameter of an authorization response (RFC 9207): it must name this
    /// provider, and must be there when the provider says it always sends it. A response
    /// from another provider (a mix-up attack) stops here, before its code goes anywhere.
    pub fn check_response_issuer(&self, iss: Option<&str>) -> Result<(), &'static str> {
        match iss {
            Some(iss) if iss == self.issuer => Ok(()),
            Some(_) => Err("the response names another issuer than the one this login went to"),
            None if self.iss_parameter => {
                Err("the response carries no `iss`, which this provider always sends")
            }
            None => Ok(()),
        }
    }

    /// Exchanges a code on the back channel (client secret, PKCE verifier) and verifies the
    /// ID token that comes back against `nonce`.
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Exchanged, ProviderError> {
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(http)
            .await
            .map_err(|err| match err {
                RequestTokenError::ServerResponse(response) => ProviderError::CodeRefused {
                    code: oauth_error_code(response.error()),
                    description: response.error_description().cloned().unwrap_or_default(),
                },
                other => ProviderError::Unreachable(error_chain(&other)),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| ProviderError::IdToken("the token response has no ID token".into()))?;
        let person = self.verify(id_token, &self.client.id_token_verifier(), nonce)?;
        let access_token = openidconnect::OAuth2TokenResponse::access_token(&response)
            .secret()
            .clone();
        Ok(Exchanged {
            person,
            claims: claims_json(id_token),
            id_token: id_token.to_string(),
            access_token,
        })
    }

    /// Verifies a compact ID token as a callback would, against `nonce` (the lab's attack
    /// steps present tokens that must fail here).
    pub fn verify_id_token(&self, compact: &str, nonce: &str) -> Result<Person, ProviderError> {
        let token: CoreIdToken = compact
            .parse()
            .map_err(|_| ProviderError::IdToken("it is not a JWT".into()))?;
        self.verify(&token, &self.client.id_token_verifier(), nonce)
    }

    fn verify(
        &self,
        token: &CoreIdToken,
        verifier: &CoreIdTokenVerifier<'_>,
        nonce: &str,
    ) -> Result<Person, ProviderError> {
        let claims: &CoreIdTokenClaims = token
            .claims(verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| ProviderError::IdToken(describe_claims_error(&e)))?;
        // The crate checks that `aud` contains this client; with several audiences, `azp`
        // must name this client too (OpenID Connect Core 3.1.3.7).
        match claims.authorized_party() {
            Some(azp) if azp.as_str() != self.client_id => {
                return Err(ProviderError::IdToken(
                    "its `azp` names another client".into(),
                ));
            }
            None if claims.audiences().len() > 1 => {
                return Err(ProviderError::IdToken(
                    "it has several audiences and no `azp`".into(),
                ));
            }
            _ => {}
        }
        Ok(Person {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            preferred_username: claims.preferred_username().map(|u| u.as_str().to_owned()),
            email: claims.email().map(|e| e.as_str().to_owned()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        })
    }
}

/// An ID token's payload as JSON, for display (it was verified before this is called).
fn claims_json(token: &CoreIdToken) -> serde_json::Value {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    token
        .to_string()
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}

fn oauth_error_code(code: &CoreErrorResponseType) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "error".into())
}

fn describe_claims_error(err: &ClaimsVerificationError) -> String {
    match err {
        ClaimsVerificationError::InvalidNonce(_) => {
            "its `nonce` is not the one this login sent".into()
        }
        ClaimsVerificationError::InvalidAudience(_) => {
            "its audience (`aud`) is another client, not this app".into()
        }
        ClaimsVerificationError::InvalidIssuer(_) => "its issuer (`iss`) is another".into(),
        ClaimsVerificationError::Expired(_) => "it has expired".into(),
        ClaimsVerificationError::SignatureVerification(_) => {
            "its signature does not verify with the provider's keys".into()
        }
        other => other.to_string(),
    }
}

/// An error and its causes on one line (the crate's top-level messages say little).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
