//! The build's files under `/pkg/` (WASM, JS, CSS): their names, how they are sent, how long
//! a browser may keep them.
//!
//! cargo-leptos (with `hash-files` in Cargo.toml, debug and release builds alike) puts a
//! hash of each file's content in its name — `authlab.<hash>.wasm` — and lists the hashes in
//! the site's `hash.txt`. Such a name can never mean other bytes, so the file is sent
//! `Cache-Control: public, max-age=31536000, immutable`: a returning visitor downloads
//! nothing and does not even ask. A file whose name carries no hash (a site built with
//! `LEPTOS_HASH_FILES=false`, the wasm-bindgen snippets) is sent `no-cache`: kept, but
//! revalidated (`If-Modified-Since` → 304), since a stale WASM beside a new page would never
//! hydrate.
//!
//! Every file is sent precompressed when the build made `.br`/`.gz` siblings
//! (`--precompress`), chosen by `Accept-Encoding` (tower-http's `ServeDir`).
//!
//! The hash list lives in the site it describes (`<site root>/hash.txt`), so a site and the
//! names its pages use are always copied together. The server reads it at start-up and refuses
//! to start when it names a file the site does not have.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::Response,
};
use tower_http::services::ServeDir;

/// Sent with a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Sent with a file whose name does not: keep it, but ask before using it.
pub const REVALIDATE: &str = "no-cache";

/// The name of the hash list, in the site root.
pub const HASH_FILE: &str = "hash.txt";

/// What the server knows about a built site.
#[derive(Debug, Clone)]
pub struct Site {
    /// The site's `hash.txt` (absolute), when the build hashed the file names.
    pub hash_file: Option<PathBuf>,
    /// The stylesheet's URL, for pages the server writes itself (outside Leptos).
    pub stylesheet: String,
}

impl Site {
    /// Reads `<root>/hash.txt` if there is one and checks that every file it names is in
    /// `<root>/pkg`. No hash list: the names are plain (`authlab.js`).
    pub fn open(root: &str, output_name: &str) -> anyhow::Result<Self> {
        let root = std::path::absolute(root).with_context(|| format!("site root {root}"))?;
        let hash_file = root.join(HASH_FILE);
        let plain = format!("{output_name}.css");
        if !hash_file.is_file() {
            return Ok(Self {
                hash_file: None,
                stylesheet: format!("/pkg/{plain}"),
            });
        }
        let text = std::fs::read_to_string(&hash_file)
            .with_context(|| format!("reading {}", hash_file.display()))?;
        let names = hashed_names(&text, output_name)?;
        for name in &names {
            let path = root.join("pkg").join(name);
            if !path.is_file() {
                bail!(
                    "{} names pkg/{name}, which is not in the site: the site and its hash list \
                     come from different builds (rebuild the site with cargo leptos build)",
                    hash_file.display()
                );
            }
        }
        let css = names
            .into_iter()
            .find(|n| n.starts_with(output_name) && n.ends_with(".css"))
            .unwrap_or(plain);
        Ok(Self {
            hash_file: Some(hash_file),
            stylesheet: format!("/pkg/{css}"),
        })
    }
}

/// The files a hash list names: `<output>.<hash>.js`, `.wasm`, `.css`, and with a split build
/// the loader `__wasm_split.<hash>.js` and `__wasm_split_manifest.<hash>.json`.
fn hashed_names(text: &str, output_name: &str) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((kind, hash)) = line.split_once(':') else {
            bail!("hash list line without `kind: hash`: {line:?}");
        };
        let hash = hash.trim();
        if !is_hash(hash) {
            bail!("hash list line with a malformed hash: {line:?}");
        }
        names.push(match kind.trim() {
            ext @ ("js" | "wasm" | "css") => format!("{output_name}.{hash}.{ext}"),
            "split" => format!("__wasm_split.{hash}.js"),
            "manifest" => format!("__wasm_split_manifest.{hash}.json"),
            other => bail!("hash list names an unknown kind of file: {other:?}"),
        });
    }
    Ok(names)
}

/// cargo-leptos' hashes: an MD5 in unpadded URL-safe base64, 22 characters.
fn is_hash(s: &str) -> bool {
    s.len() == 22
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a file name carries its content's hash: `<stem>.<hash>.<ext>`.
pub fn is_hashed(file_name: &str) -> bool {
    let mut parts = file_name.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty() && is_hash(hash)
}

/// The `/pkg` routes: the files of `<root>/pkg`, precompressed when possible, with the cache
/// policy above.
pub fn routes<S: Clone + Send + Sync + 'static>(root: &str) -> Router<S> {
    let files = ServeDir::new(Path::new(root).join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service("/pkg", files)
        .layer(middleware::from_fn(cache_policy))
}

/// `immutable` for a hashed name that was found (never for a 404: the file may appear with the
/// next deploy), `no-cache` for everything else.
async fn cache_policy(req: Request, next: Next) -> Response {
    let hashed = req.uri().path().rsplit('/').next().is_some_and(is_hashed);
    let mut res = next.run(req).await;
    let found = res.status().is_success() || res.status().as_u16() == 304;
    let policy = if hashed && found {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        assert!(is_hashed("authlab.Xy3_k-9AbCdEfGhIjKlMnO.wasm"));
        assert!(is_hashed("__wasm_split.Xy3_k-9AbCdEfGhIjKlMnO.js"));
        assert!(!is_hashed("authlab.wasm"));
        assert!(!is_hashed("authlab.js.br"));
        assert!(!is_hashed("authlab.short.wasm"));
        assert!(!is_hashed(".Xy3_k-9AbCdEfGhIjKlMnO.js"));
        assert!(!is_hashed("inline0.js"));
    }

    #[test]
    fn a_hash_list_names_the_files_of_its_build() {
        let h = "Xy3_k-9AbCdEfGhIjKlMnO";
        let text = format!("js: {h}\nwasm: {h}\ncss: {h}\nmanifest: {h}\nsplit: {h}\n");
        assert_eq!(
            hashed_names(&text, "authlab").unwrap(),
            [
                format!("authlab.{h}.js"),
                format!("authlab.{h}.wasm"),
                format!("authlab.{h}.css"),
                format!("__wasm_split_manifest.{h}.json"),
                format!("__wasm_split.{h}.js"),
            ]
        );
        assert!(hashed_names("js: ../../etc/passwd", "authlab").is_err());
        assert!(hashed_names("exe: Xy3_k-9AbCdEfGhIjKlMnO", "authlab").is_err());
        assert!(hashed_names("just text", "authlab").is_err());
    }
}
