//! A person at the identity provider's own pages: follows the provider's redirects, types a
//! name and password into its login form and presses its consent button, as a browser would,
//! until the provider sends the browser back to a relying party. The lab's OAuth experiment
//! and the tests use it with the local provider (`tools/oidc`), whose pages are
//! oidc-provider's development pages: one form per step, told apart by its `prompt` field.

use super::client::{Answer, LabClient};
use crate::error::ApiError;

/// How many requests a sign-in may take (it takes six with a login and a consent).
const MAX_HOPS: usize = 12;

/// Where the provider sent the browser back, and every exchange on the way.
#[derive(Debug)]
pub struct BackFromProvider {
    /// The absolute URL the provider redirected to (the relying party's callback).
    pub url: String,
    /// The requests made at the provider, in order.
    pub answers: Vec<Answer>,
}

/// The provider did not behave as the local one does (another provider, or the test user
/// unknown there): a 502 naming the provider, not a failure of this server.
fn failed(why: String) -> ApiError {
    ApiError::ProviderUnavailable(format!("signing in at the identity provider: {why}"))
}

/// Signs in at the provider as `login`/`password`, starting from `authorize_url`. `at` is a
/// client whose base is the provider's issuer (its cookie jar is the browser's, for that
/// site). With `cancel`, presses the login page's "Cancel" instead (the provider then sends
/// `error=access_denied` back).
pub async fn sign_in(
    at: &LabClient,
    issuer: &str,
    authorize_url: &str,
    login: &str,
    password: &str,
    cancel: bool,
) -> Result<BackFromProvider, ApiError> {
    let mut answers = Vec::new();
    let mut next = authorize_url.to_owned();
    let mut logged_in = false;
    for _ in 0..MAX_HOPS {
        let path = match next.strip_prefix(issuer) {
            Some(path) => path.to_owned(),
            None if next.starts_with('/') => next.clone(),
            None => return Ok(BackFromProvider { url: next, answers }),
        };
        let page = at.get(&path).await?;
        let status = page.status();
        if let Some(location) = page.location.clone() {
            answers.push(page);
            next = location;
            continue;
        }
        let form_path = path.split('?').next().unwrap_or(&path).to_owned();
        let answer = if page.text.contains(r#"name="prompt" value="login""#) {
            if logged_in {
                return Err(failed(format!(
                    "it refused the password of `{login}` ({status})"
                )));
            }
            logged_in = true;
            answers.push(page);
            if cancel {
                at.get(&format!("{form_path}/abort")).await?
            } else {
                at.post_form(
                    &form_path,
                    &[
                        ("prompt", "login"),
                        ("login", login),
                        ("password", password),
                    ],
                )
                .await?
            }
        } else if page.text.contains(r#"name="prompt" value="consent""#) {
            answers.push(page);
            at.post_form(&form_path, &[("prompt", "consent")]).await?
        } else {
            return Err(failed(format!(
                "an unexpected page ({status}) at {form_path}"
            )));
        };
        next = answer
            .location
            .clone()
            .ok_or_else(|| failed(format!("no redirect after a form ({})", answer.status())))?;
        answers.push(answer);
    }
    Err(failed(format!("more than {MAX_HOPS} redirects")))
}
