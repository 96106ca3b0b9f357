//! The cryptography of access: password hashes (argon2id), personal data sealed at rest
//! (AES-256-GCM) with a keyed hash for lookups (HMAC-SHA-256), random tokens, and TOTP
//! (RFC 6238) second factors.

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD, HEXLOWER};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{AppError, AppResult};

/// The configured key: 32 bytes, from which the sealing key and the lookup key are derived so
/// that one secret serves both without either revealing the other.
#[derive(Clone)]
pub struct Keys {
    seal: [u8; 32],
    lookup: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(redacted)")
    }
}

const SEALED_PREFIX: &str = "sealed:v1:";

impl Keys {
    /// Keys derived from 32 secret bytes.
    pub fn from_secret(secret: &[u8; 32]) -> Keys {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
                .expect("HMAC takes a key of any length"); // cannot fail
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        Keys {
            seal: derive(b"onegrid personal data sealing v1"),
            lookup: derive(b"onegrid personal data lookup v1"),
        }
    }

    /// A key given as 64 hex digits (`openssl rand -hex 32`).
    pub fn parse(text: &str) -> AppResult<Keys> {
        let bytes = HEXLOWER
            .decode(text.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| AppError::invalid("secret_key: must be 64 hex digits (32 bytes)"))?;
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|_| AppError::invalid("secret_key: must be 64 hex digits (32 bytes)"))?;
        Ok(Keys::from_secret(&secret))
    }

    /// Fresh random keys: for tests and for a demo that was given none.
    pub fn random() -> Keys {
        Keys::from_secret(&random_bytes::<32>())
    }

    /// Seals a value for storage: `sealed:v1:` and base64url of nonce and ciphertext.
    pub fn seal(&self, plain: &str) -> String {
        let cipher = Aes256Gcm::new(&self.seal.into());
        let nonce = random_bytes::<12>();
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .expect("AES-GCM encrypts any message shorter than 64 GiB"); // cannot fail
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", BASE64URL_NOPAD.encode(&bytes))
    }

    /// Opens a sealed value; `None` when it was sealed with another key or is damaged. A value
    /// stored before sealing existed comes back as it is.
    pub fn open(&self, stored: &str) -> Option<String> {
        let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
            return Some(stored.to_owned());
        };
        let bytes = BASE64URL_NOPAD.decode(encoded.as_bytes()).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let cipher = Aes256Gcm::new(&self.seal.into());
        let plain = cipher.decrypt(&Nonce::from(nonce), sealed).ok()?;
        String::from_utf8(plain).ok()
    }

    /// The keyed hash a value is looked up by (a phone number, a tracking code).
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.lookup)
            .expect("HMAC takes a key of any length"); // cannot fail
        mac.update(value.as_bytes());
        HEXLOWER.encode(&mac.finalize().into_bytes())
    }
}

pub fn is_sealed(value: &str) -> bool {
    value.starts_with(SEALED_PREFIX)
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The operating system's generator; without it no secret can be made safely at all.
    getrandom::fill(&mut bytes).expect("the operating system's random generator is available");
    bytes
}

/// A random token for a session cookie or an API token: 256 bits, base64url.
pub fn random_token() -> String {
    BASE64URL_NOPAD.encode(&random_bytes::<32>())
}

/// A tracking code for a resident: 100 random bits as 20 base32 letters in groups of four
/// (`ABCD-EFGH-…`), easy to read over the phone and impossible to guess.
pub fn tracking_code() -> String {
    let bytes = random_bytes::<13>();
    let text = BASE32_NOPAD.encode(&bytes);
    let letters: Vec<char> = text.chars().take(20).collect();
    letters
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A tracking code as typed: upper case, dashes and spaces dropped, then regrouped.
pub fn normalise_tracking_code(text: &str) -> String {
    let letters: Vec<char> = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    letters
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A strong random password for a new account (all four classes, 20 characters).
pub fn random_password() -> String {
    let body: String = random_token().chars().take(16).collect();
    format!("Og{body}#7")
}

/// SHA-256 of a token, as the store keeps it (tokens are random: no key is needed).
pub fn token_hash(token: &str) -> String {
    HEXLOWER.encode(&Sha256::digest(token.as_bytes()))
}

/// An argon2id hash (PHC string) of a password, with a random salt.
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| AppError::invalid(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::invalid(format!("password: {e}")))
}

/// Whether `password` matches the stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

/// A hash to verify against when the login is unknown, so that the answer takes as long as for
/// a known one and does not tell which logins exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy-password-never-matches").unwrap_or_default())
}

/// A new TOTP secret: 160 bits, base32 as authenticator apps read it.
pub fn totp_secret() -> String {
    BASE32_NOPAD.encode(&random_bytes::<20>())
}

/// The `otpauth://` URI an authenticator app scans.
pub fn totp_uri(secret: &str, login: &str) -> String {
    format!("otpauth://totp/onegrid:{login}?secret={secret}&issuer=onegrid&digits=6&period=30")
}

/// The six-digit TOTP code (RFC 6238: HMAC-SHA-1, 30-second steps) for a time.
pub fn totp_code(secret_base32: &str, unix_seconds: i64) -> Option<String> {
    let key = BASE32_NOPAD
        .decode(secret_base32.trim().to_ascii_uppercase().as_bytes())
        .ok()?;
    let step = u64::try_from(unix_seconds.div_euclid(30)).ok()?;
    Some(hotp(&key, step, 6))
}

/// HOTP (RFC 4226) with `digits` digits.
fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    let mut mac =
        <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length"); // cannot fail
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    let code = binary % 10u32.pow(digits);
    format!("{code:0width$}", width = digits as usize)
}

/// Whether `code` is the TOTP code of the time step of `unix_seconds` or of either neighbour
/// (clocks drift by a few seconds).
pub fn totp_accepts(secret_base32: &str, code: &str, unix_seconds: i64) -> bool {
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    [-30, 0, 30].iter().any(|drift| {
        totp_code(secret_base32, unix_seconds + drift).is_some_and(|expected| expected == code)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column, with its 20-byte ASCII key "12345678901234567890".
    #[test]
    fn totp_matches_rfc_6238_vectors() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        let key = BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
        for (time, expected) in [
            (59_u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(hotp(&key, time / 30, 8), expected, "T = {time}");
        }
        assert_eq!(totp_code(&secret, 59).unwrap(), "287082");
        assert!(totp_accepts(&secret, "287082", 59 + 25));
        assert!(!totp_accepts(&secret, "287082", 59 + 65));
        assert!(!totp_accepts(&secret, "28708", 59));
    }

    #[test]
    fn sealing_round_trips_and_refuses_another_key() {
        let keys = Keys::random();
        let sealed = keys.seal("13812341234");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("1381234"));
        assert_eq!(keys.open(&sealed).as_deref(), Some("13812341234"));
        assert_ne!(keys.seal("13812341234"), sealed, "a fresh nonce each time");
        assert_eq!(Keys::random().open(&sealed), None);
        assert_eq!(keys.lookup_hash("a"), keys.lookup_hash("a"));
        assert_ne!(keys.lookup_hash("a"), Keys::random().lookup_hash("a"));
    }

    #[test]
    fn passwords_hash_with_argon2id() {
        let hash = hash_password("Jinzhong#2026").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("Jinzhong#2026", &hash));
        assert!(!verify_password("Jinzhong#2027", &hash));
    }

    #[test]
    fn tracking_codes_read_back_however_typed() {
        let code = tracking_code();
        assert_eq!(code.len(), 24, "{code}");
        assert_eq!(
            normalise_tracking_code(&code.to_lowercase().replace('-', " ")),
            code
        );
    }
}
