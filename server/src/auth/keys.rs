//! Access-token signing keys: which key signs, which keys verify, and their public halves as a
//! JSON Web Key Set (RFC 7517) at `/.well-known/jwks.json`.
//!
//! **EdDSA (Ed25519) by default.** A server that only *verifies* tokens — the separate API
//! server, another team's service — needs the public key alone, and a public key cannot sign:
//! with HS256 every verifier would hold the power to forge. Ed25519 rather than ES256
//! (ECDSA P-256): its signatures are deterministic (ECDSA's per-signature random number has
//! leaked private keys when it repeated), keys and signatures are small (32 and 64 bytes), and
//! there is one curve and no parameters to get wrong. ES256 is supported by more old JOSE
//! libraries; every library authlab's readers would use today verifies EdDSA. `JWT_ALGORITHM=HS256`
//! keeps the symmetric variant (nothing is published then, and no API server can verify).
//!
//! **Keys are derived, not stored.** Each key is `HMAC-SHA256(JWT_SECRET, kid)` used as an
//! Ed25519 seed (or as the HS256 key). The database keeps only the key ids and their
//! lifecycle (`KeyStore`), so every app server holding `JWT_SECRET` computes the same keys and
//! nothing secret sits in the database. Rotation adds a new id, which signs from then on;
//! older ids keep verifying until they are retired, and a retired id (or one never issued) is
//! refused. Rotation limits how much any one key signs and lets an operator retire a key
//! without logging everybody out; it is **no cure for a leaked `JWT_SECRET`**, from which every
//! key derives — that takes a new secret (the lab's leaked-secret experiment).
//!
//! **Where keys come from** is a [`KeySource`]: the app server reads the ids from its store
//! ([`StoredKeys`]); the API server fetches the JWKS over HTTP ([`JwksKeys`]). Both feed the same
//! verifier (`bearer::AccessTokens`), which asks its source again when a token names a key it
//! does not know — at most once per `JWKS_REFRESH_MIN_SECS`, so forged `kid`s cannot make it
//! hammer the database or the JWKS endpoint.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use anyhow::{Context, anyhow, bail};
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey,
    jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse},
};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{
    clock::Clock,
    store::{KeyStore, SigningKeyRow},
};

/// How long the JWKS may be cached by whoever fetches it (`Cache-Control: max-age`). A key
/// retired on the app servers is still trusted by a JWKS-fed verifier for at most this long.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(60);

/// The largest JWKS document a verifier accepts.
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// The signing algorithm (`JWT_ALGORITHM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// Ed25519 signatures; public keys published as a JWKS.
    EdDsa,
    /// HMAC-SHA256; the key is secret, so nothing is published.
    Hs256,
}

impl SigningAlgorithm {
    /// `EdDSA` or `HS256` (case-insensitive).
    pub fn parse(value: &str) -> anyhow::Result<Self> {
        match value.to_ascii_uppercase().as_str() {
            "EDDSA" | "ED25519" => Ok(Self::EdDsa),
            "HS256" => Ok(Self::Hs256),
            _ => bail!("JWT_ALGORITHM must be EdDSA or HS256, not `{value}`"),
        }
    }

    /// The JOSE algorithm.
    pub fn jose(self) -> Algorithm {
        match self {
            Self::EdDsa => Algorithm::EdDSA,
            Self::Hs256 => Algorithm::HS256,
        }
    }

    /// Its name in token headers.
    pub fn name(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Hs256 => "HS256",
        }
    }
}

/// The keys in force at one moment: at most one that signs, any number that verify, and the
/// public ones as a JWKS.
pub struct KeySet {
    algorithm: SigningAlgorithm,
    signer: Option<(String, EncodingKey)>,
    verifiers: HashMap<String, DecodingKey>,
    jwks: JwkSet,
    /// Each key id with a digest of its key: two sets with the same fingerprint verify the
    /// same tokens, so installing one over the other changes nothing.
    fingerprint: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("algorithm", &self.algorithm)
            .field("signer", &self.signer.as_ref().map(|(kid, _)| kid))
            .field("verifiers", &self.verifiers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The DER header of a PKCS#8 v1 Ed25519 private key; the 32-byte seed follows it.
const ED25519_PKCS8_HEADER: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The 32 secret bytes of key `kid`: `HMAC-SHA256(secret, label || kid)`.
fn derive(secret: &SecretString, kid: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"authlab access-token signing key\0");
    mac.update(kid.as_bytes());
    mac.finalize().into_bytes().into()
}

impl KeySet {
    /// The keys of `rows` derived from `secret`: retired ids are left out, the newest live one
    /// signs.
    pub fn derive(
        algorithm: SigningAlgorithm,
        secret: &SecretString,
        rows: &[SigningKeyRow],
    ) -> anyhow::Result<Self> {
        let mut set = Self {
            algorithm,
            signer: None,
            verifiers: HashMap::new(),
            jwks: JwkSet { keys: Vec::new() },
            fingerprint: Vec::new(),
        };
        let mut live: Vec<&SigningKeyRow> =
            rows.iter().filter(|r| r.retired_at.is_none()).collect();
        live.sort_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
        for row in live {
            let bytes = derive(secret, &row.kid);
            let (encoding, decoding) = match algorithm {
                SigningAlgorithm::Hs256 => (
                    EncodingKey::from_secret(&bytes),
                    DecodingKey::from_secret(&bytes),
                ),
                SigningAlgorithm::EdDsa => {
                    let mut der = ED25519_PKCS8_HEADER.to_vec();
                    der.extend_from_slice(&bytes);
                    let encoding = EncodingKey::from_ed_der(&der);
                    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
                        .context("deriving an Ed25519 public key")?;
                    jwk.common.key_id = Some(row.kid.clone());
                    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
                    let decoding = DecodingKey::from_jwk(&jwk)
                        .context("reading back a derived Ed25519 public key")?;
                    set.jwks.keys.push(jwk);
                    (encoding, decoding)
                }
            };
            set.verifiers.insert(row.kid.clone(), decoding);
            set.fingerprint
                .push((row.kid.clone(), Sha256::digest(bytes).into()));
            set.signer = Some((row.kid.clone(), encoding));
        }
        set.fingerprint.sort();
        Ok(set)
    }

    /// The verifying keys of a fetched JWKS: its Ed25519 keys that name an id and are for
    /// signatures. It signs nothing.
    pub fn from_jwks(jwks: &JwkSet) -> Self {
        let mut set = Self {
            algorithm: SigningAlgorithm::EdDsa,
            signer: None,
            verifiers: HashMap::new(),
            jwks: JwkSet { keys: Vec::new() },
            fingerprint: Vec::new(),
        };
        for jwk in &jwks.keys {
            let usable = matches!(jwk.algorithm, AlgorithmParameters::OctetKeyPair(_))
                && matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::EdDSA))
                && matches!(
                    jwk.common.public_key_use,
                    None | Some(PublicKeyUse::Signature)
                );
            let (Some(kid), true) = (jwk.common.key_id.clone(), usable) else {
                continue;
            };
            if let (Ok(key), AlgorithmParameters::OctetKeyPair(okp)) =
                (DecodingKey::from_jwk(jwk), &jwk.algorithm)
            {
                set.fingerprint
                    .push((kid.clone(), Sha256::digest(okp.x.as_bytes()).into()));
                set.verifiers.insert(kid, key);
                set.jwks.keys.push(jwk.clone());
            }
        }
        set.fingerprint.sort();
        set
    }

    /// Whether `other` holds exactly these keys, signing with the same one.
    pub fn same_as(&self, other: &KeySet) -> bool {
        self.algorithm == other.algorithm
            && self.fingerprint == other.fingerprint
            && self.signer().map(|(kid, _)| kid) == other.signer().map(|(kid, _)| kid)
    }

    /// The algorithm every key here uses.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The key that signs new tokens, with its id.
    pub fn signer(&self) -> Option<(&str, &EncodingKey)> {
        self.signer.as_ref().map(|(kid, key)| (kid.as_str(), key))
    }

    /// The key that verifies tokens naming `kid`.
    pub fn verifier(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifiers.get(kid)
    }

    /// The public keys (empty for HS256).
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The ids that verify, sorted.
    pub fn kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.verifiers.keys().cloned().collect();
        kids.sort();
        kids
    }
}

/// A random key of `algorithm` that no server knows (the lab's forger signs with it).
pub fn throwaway_key(algorithm: SigningAlgorithm) -> EncodingKey {
    let mut seed = [0u8; 32];
    rand::rng().fill(&mut seed);
    match algorithm {
        SigningAlgorithm::Hs256 => EncodingKey::from_secret(&seed),
        SigningAlgorithm::EdDsa => {
            let mut der = ED25519_PKCS8_HEADER.to_vec();
            der.extend_from_slice(&seed);
            EncodingKey::from_ed_der(&der)
        }
    }
}

/// Where a verifier gets its keys.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The keys as they are now.
    async fn load(&self) -> anyhow::Result<KeySet>;
}

/// A new random key id: 16 characters of base64url alphabet (96 bits).
pub fn new_kid() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// At most this many keys are live at once (each is one entry in the JWKS).
pub const MAX_LIVE_KEYS: usize = 16;

/// What [`StoredKeys::retire`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retirement {
    /// The key is retired.
    Done,
    /// No live key has that id.
    Unknown,
    /// It is the only live key: rotate first.
    LastLive,
}

/// The app server's keys: ids from the store, keys derived from `JWT_SECRET`.
pub struct StoredKeys {
    store: Arc<dyn KeyStore>,
    algorithm: SigningAlgorithm,
    secret: RwLock<SecretString>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for StoredKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl StoredKeys {
    /// Keys of `algorithm` derived from `secret`, their ids in `store`.
    pub fn new(
        store: Arc<dyn KeyStore>,
        algorithm: SigningAlgorithm,
        secret: SecretString,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            algorithm,
            secret: RwLock::new(secret),
            clock,
        }
    }

    fn secret(&self) -> SecretString {
        match self.secret.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces `JWT_SECRET` in this process (the lab's answer to a leaked secret): every key
    /// changes, so every token signed so far stops verifying here.
    pub fn replace_secret(&self, secret: SecretString) {
        match self.secret.write() {
            Ok(mut s) => *s = secret,
            Err(poisoned) => *poisoned.into_inner() = secret,
        }
    }

    /// Adds a new key id, which signs from now on; returns it, or `None` when
    /// [`MAX_LIVE_KEYS`] are live already (retire some first: the JWKS must stay small).
    pub async fn rotate(&self) -> anyhow::Result<Option<String>> {
        let rows = self.store.signing_keys().await?;
        if rows.iter().filter(|r| r.retired_at.is_none()).count() >= MAX_LIVE_KEYS {
            return Ok(None);
        }
        // The newest key signs. Newer than every key there, whatever this server's clock says
        // (a clock behind the others' must not add a key that never signs).
        let newest = rows.iter().map(|r| r.created_at).max().unwrap_or(0);
        let kid = new_kid();
        self.store
            .add_signing_key(&kid, self.clock.now_ms().max(newest + 1))
            .await
            .context("adding a signing key")?;
        Ok(Some(kid))
    }

    /// Retires `kid`: tokens it signed are refused from now on.
    pub async fn retire(&self, kid: &str) -> anyhow::Result<Retirement> {
        let live = self.live().await?;
        if !live.iter().any(|r| r.kid == kid) {
            return Ok(Retirement::Unknown);
        }
        if live.len() == 1 {
            return Ok(Retirement::LastLive);
        }
        let retired = self
            .store
            .retire_signing_key(kid, self.clock.now_ms())
            .await?;
        // Not retired here: someone else retired it meanwhile.
        Ok(if retired {
            Retirement::Done
        } else {
            Retirement::Unknown
        })
    }

    async fn live(&self) -> anyhow::Result<Vec<SigningKeyRow>> {
        let mut rows = self.store.signing_keys().await?;
        rows.retain(|r| r.retired_at.is_none());
        Ok(rows)
    }

    /// Every id with its lifecycle, oldest first.
    pub async fn rows(&self) -> anyhow::Result<Vec<SigningKeyRow>> {
        Ok(self.store.signing_keys().await?)
    }
}

#[async_trait]
impl KeySource for StoredKeys {
    async fn load(&self) -> anyhow::Result<KeySet> {
        let mut rows = self.store.signing_keys().await?;
        if rows.iter().all(|r| r.retired_at.is_some()) {
            // A new database: the first key. Several servers starting together may each add
            // one; all of them verify, and every server picks the same newest one to sign.
            self.store
                .add_signing_key(&new_kid(), self.clock.now_ms())
                .await?;
            rows = self.store.signing_keys().await?;
        }
        KeySet::derive(self.algorithm, &self.secret(), &rows)
    }
}

/// A verifier's keys fetched from a JWKS URL (the API server).
#[derive(Debug, Clone)]
pub struct JwksKeys {
    url: String,
    http: reqwest::Client,
}

impl JwksKeys {
    /// Keys from `url`: `https://`, or plain `http://` to a loopback address only — the JWKS
    /// is the verifier's only trust root, and whoever can change it in transit can forge any
    /// token.
    pub fn new(url: String) -> anyhow::Result<Self> {
        crate::config::require_https("JWKS_URL", &url, crate::config::Loopback::Allowed)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the JWKS client")?;
        Ok(Self { url, http })
    }
}

#[async_trait]
impl KeySource for JwksKeys {
    async fn load(&self) -> anyhow::Result<KeySet> {
        let res = self
            .http
            .get(&self.url)
            .send()
            .await
            .with_context(|| format!("fetching the JWKS from {}", self.url))?;
        if !res.status().is_success() {
            return Err(anyhow!(
                "the JWKS at {} answered {}",
                self.url,
                res.status()
            ));
        }
        if res
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            bail!(
                "the JWKS at {} is larger than {MAX_JWKS_BYTES} bytes",
                self.url
            );
        }
        // Read in pieces, stopping at the limit: a body without a length is never buffered
        // whole.
        let mut res = res;
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.context("reading the JWKS")? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                bail!(
                    "the JWKS at {} is larger than {MAX_JWKS_BYTES} bytes",
                    self.url
                );
            }
            body.extend_from_slice(&chunk);
        }
        let jwks: JwkSet = serde_json::from_slice(&body).context("parsing the JWKS")?;
        Ok(KeySet::from_jwks(&jwks))
    }
}

/// Keys with their ids kept in memory: one process's verifier in unit tests and fuzzing.
#[derive(Debug)]
pub struct StaticKeys {
    algorithm: SigningAlgorithm,
    secret: SecretString,
    rows: std::sync::Mutex<Vec<SigningKeyRow>>,
}

impl StaticKeys {
    /// One key, derived from `secret`.
    pub fn new(algorithm: SigningAlgorithm, secret: SecretString) -> Self {
        Self {
            algorithm,
            secret,
            rows: std::sync::Mutex::new(vec![SigningKeyRow {
                kid: new_kid(),
                created_at: 0,
                retired_at: None,
            }]),
        }
    }

    fn with_rows<T>(&self, f: impl FnOnce(&mut Vec<SigningKeyRow>) -> T) -> T {
        match self.rows.lock() {
            Ok(mut rows) => f(&mut rows),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Adds a key, newer than every other; returns its id.
    pub fn rotate(&self) -> String {
        let kid = new_kid();
        self.with_rows(|rows| {
            let created_at = rows.iter().map(|r| r.created_at).max().unwrap_or(0) + 1;
            rows.push(SigningKeyRow {
                kid: kid.clone(),
                created_at,
                retired_at: None,
            });
        });
        kid
    }

    /// The keys now, without waiting.
    pub fn load_now(&self) -> anyhow::Result<KeySet> {
        let rows = self.with_rows(|rows| rows.clone());
        KeySet::derive(self.algorithm, &self.secret, &rows)
    }

    /// Retires `kid`.
    pub fn retire(&self, kid: &str) {
        self.with_rows(|rows| {
            for row in rows.iter_mut().filter(|r| r.kid == kid) {
                row.retired_at = Some(row.created_at + 1);
            }
        });
    }
}

#[async_trait]
impl KeySource for StaticKeys {
    async fn load(&self) -> anyhow::Result<KeySet> {
        self.load_now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kid: &str, created_at: i64, retired: bool) -> SigningKeyRow {
        SigningKeyRow {
            kid: kid.into(),
            created_at,
            retired_at: retired.then_some(created_at + 1),
        }
    }

    #[test]
    fn the_newest_live_key_signs_and_retired_keys_neither_sign_nor_verify() {
        let secret = SecretString::from("a".repeat(43));
        let rows = [
            row("old", 1, false),
            row("gone", 2, true),
            row("new", 3, false),
        ];
        let set = KeySet::derive(SigningAlgorithm::EdDsa, &secret, &rows).unwrap();
        assert_eq!(set.signer().unwrap().0, "new");
        assert_eq!(set.kids(), ["new", "old"]);
        assert!(set.verifier("gone").is_none());
        // The JWKS holds the two public keys, each with its id, and no private part.
        let json = serde_json::to_value(set.jwks()).unwrap();
        assert_eq!(json["keys"].as_array().unwrap().len(), 2);
        assert_eq!(json["keys"][0]["kty"], "OKP");
        assert_eq!(json["keys"][0]["crv"], "Ed25519");
        assert_eq!(json["keys"][0]["use"], "sig");
        assert!(json["keys"][0].get("d").is_none());
    }

    #[test]
    fn every_server_with_the_secret_derives_the_same_keys_and_another_secret_does_not() {
        let rows = [row("k1", 1, false)];
        let a = KeySet::derive(
            SigningAlgorithm::EdDsa,
            &SecretString::from("s".repeat(43)),
            &rows,
        )
        .unwrap();
        let b = KeySet::derive(
            SigningAlgorithm::EdDsa,
            &SecretString::from("s".repeat(43)),
            &rows,
        )
        .unwrap();
        let c = KeySet::derive(
            SigningAlgorithm::EdDsa,
            &SecretString::from("t".repeat(43)),
            &rows,
        )
        .unwrap();
        let x = |s: &KeySet| serde_json::to_value(s.jwks()).unwrap()["keys"][0]["x"].clone();
        assert_eq!(x(&a), x(&b));
        assert_ne!(x(&a), x(&c));
    }

    #[test]
    fn hs256_publishes_nothing() {
        let set = KeySet::derive(
            SigningAlgorithm::Hs256,
            &SecretString::from("s".repeat(43)),
            &[row("k1", 1, false)],
        )
        .unwrap();
        assert!(set.jwks().keys.is_empty());
        assert!(set.verifier("k1").is_some());
    }
}
