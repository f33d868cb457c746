//! The one signature algorithm engage's tokens use, HS256, as `jsonwebtoken`'s crypto
//! provider.
//!
//! `jsonwebtoken`'s bundled providers carry every JWA algorithm: the RustCrypto one links
//! RSA (with its big-integer arithmetic), P-256, P-384 and Ed25519 into every function
//! (about 0.3 MiB of `.text`, measured with `cargo bloat`) and into every build. Local
//! tokens and the API Gateway authorizer's are HS256 only, and [`super::TokenKeys`]
//! refuses any other `alg` before a key is looked at; this provider makes that the whole
//! of the crypto.

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::Sha256;
use signature::{Signer, Verifier};

type HmacSha256 = Hmac<Sha256>;

/// HS256 signing and verification; any other algorithm is refused, and JWKs (which
/// engage never reads) are unsupported.
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

/// Makes [`HS256_ONLY`] the process's provider; idempotent.
pub(super) fn install() {
    // Err only when a provider is already installed, and only this module installs one.
    let _ = HS256_ONLY.install_default();
}

/// One HMAC-SHA256 keyed with a token secret; the signer and the verifier both.
struct Hs256(HmacSha256);

impl Hs256 {
    fn new(algorithm: Algorithm, secret: Result<&[u8], Error>) -> Result<Self, Error> {
        if algorithm != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        HmacSha256::new_from_slice(secret?)
            .map(Self)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }

    /// The MAC of `message`, from a fresh copy of the keyed state.
    fn mac(&self, message: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(message);
        mac
    }
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Ok(Box::new(Hs256::new(*algorithm, key.try_get_hmac_secret())?))
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    Ok(Box::new(Hs256::new(*algorithm, key.try_get_hmac_secret())?))
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.mac(message).finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        // Constant time: `verify_slice` compares the whole tag.
        self.mac(message)
            .verify_slice(tag)
            .map_err(signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}
