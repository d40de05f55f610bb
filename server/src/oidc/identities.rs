//! Which local user a provider account is.
//!
//! The rules:
//!
//! * a provider account is named by `(issuer, subject)`, never by its email or name (both can
//!   change, and anyone can claim any email at some provider);
//! * the first login with an unknown provider account creates a new local user for it — a
//!   name is suggested from its `preferred_username` or email, and if that name belongs to
//!   someone else the new user gets another (`alice-2`): a name collision never merges two
//!   people;
//! * a logged-in user may link a provider account from their profile; one that is already
//!   linked (to anyone) cannot be linked again (409).

use app::wire::limits::{USERNAME_MAX, USERNAME_MIN};
use rand::Rng;

use super::Person;
use crate::{
    accounts::NO_PASSWORD,
    clock::Millis,
    error::ApiError,
    store::{ExternalIdentity, ExternalLoginStore, StoreError, User, UserStore},
};

/// How many names are tried before a random suffix.
const NAME_TRIES: u32 = 8;

fn identity(person: &Person, user_id: i64, now: Millis) -> ExternalIdentity {
    ExternalIdentity {
        issuer: person.issuer.clone(),
        subject: person.subject.clone(),
        user_id,
        email: person.email.clone().unwrap_or_default(),
        created_at: now,
    }
}

/// The user a provider login logs in as: the linked one, or a new one. `true` when created.
pub async fn login_user(
    store: &dyn ExternalLoginStore,
    users: &dyn UserStore,
    person: &Person,
    now: Millis,
) -> Result<(User, bool), ApiError> {
    if let Some(user) = store
        .user_by_identity(&person.issuer, &person.subject)
        .await?
    {
        return Ok((user, false));
    }
    let base = suggested_name(person);
    let link = identity(person, 0, now);
    for attempt in 0..=NAME_TRIES {
        let name = candidate(&base, attempt);
        if users.user_by_name(&name).await?.is_some() {
            continue;
        }
        match store
            .insert_user_with_identity(&name, NO_PASSWORD, &link)
            .await
        {
            Ok(id) => {
                tracing::info!(user_id = id, "account created by a provider login");
                return Ok((User { id, username: name }, true));
            }
            // The same provider account finishing two logins at once: the other one won.
            Err(StoreError::Conflict) => {
                if let Some(user) = store
                    .user_by_identity(&person.issuer, &person.subject)
                    .await?
                {
                    return Ok((user, false));
                }
                // Otherwise the name was taken in between: try the next.
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::Conflict(
        "no free username could be found for this provider account",
    ))
}

/// Links a provider account to `user_id` (a logged-in user). Linking the same account to the
/// same user again is fine; linking one that belongs to someone else is a 409.
pub async fn link(
    store: &dyn ExternalLoginStore,
    users: &dyn UserStore,
    user_id: i64,
    person: &Person,
    now: Millis,
) -> Result<User, ApiError> {
    const TAKEN: ApiError =
        ApiError::Conflict("this provider account is already linked to another authlab account");
    let user = users
        .user_by_id(user_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    match store
        .user_by_identity(&person.issuer, &person.subject)
        .await?
    {
        Some(owner) if owner.id == user.id => return Ok(user),
        Some(_) => return Err(TAKEN),
        None => {}
    }
    match store.link_identity(&identity(person, user.id, now)).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict) => Err(TAKEN),
        Err(err) => Err(err.into()),
    }
}

/// A username from the ID token: `preferred_username`, else the email's local part, else
/// `user`; reduced to the characters registration allows and cut to length.
pub fn suggested_name(person: &Person) -> String {
    let raw = person
        .preferred_username
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| person.email.as_deref().and_then(|e| e.split('@').next()))
        .unwrap_or("user");
    let mut name: String = raw
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        // Room for a suffix.
        .take(USERNAME_MAX - 7)
        .collect();
    while name.len() < USERNAME_MIN {
        name.push('_');
    }
    name
}

/// The `attempt`-th name to try: the base, then `base-2` …, then a random suffix.
fn candidate(base: &str, attempt: u32) -> String {
    match attempt {
        0 => base.to_owned(),
        n if n < NAME_TRIES => format!("{base}-{}", n + 1),
        _ => format!("{base}-{:06}", rand::rng().random_range(0..1_000_000)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(preferred: Option<&str>, email: Option<&str>) -> Person {
        Person {
            issuer: "http://127.0.0.1:1".into(),
            subject: "sub".into(),
            preferred_username: preferred.map(str::to_owned),
            email: email.map(str::to_owned),
            name: None,
        }
    }

    #[test]
    fn names_come_from_the_preferred_username_then_the_email() {
        assert_eq!(suggested_name(&person(Some("Alice"), None)), "alice");
        assert_eq!(
            suggested_name(&person(None, Some("bob.smith@example.com"))),
            "bob.smith"
        );
        assert_eq!(suggested_name(&person(None, None)), "user");
    }

    #[test]
    fn names_keep_only_what_registration_allows() {
        let name = suggested_name(&person(Some("Ada Lovelace <script>"), None));
        assert_eq!(name, "ada-lovelace-script");
        assert!(app::wire::validate_registration(&name, "long enough password").is_empty());
        // Nothing usable: padded to the minimum length.
        assert_eq!(suggested_name(&person(Some("김"), None)), "___");
        let long = suggested_name(&person(Some(&"x".repeat(100)), None));
        assert!(candidate(&long, NAME_TRIES).len() <= USERNAME_MAX);
    }

    #[test]
    fn later_candidates_get_suffixes() {
        assert_eq!(candidate("alice", 0), "alice");
        assert_eq!(candidate("alice", 1), "alice-2");
        assert!(candidate("alice", NAME_TRIES).starts_with("alice-"));
    }
}
