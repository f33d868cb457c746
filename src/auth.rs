//! Bearer tokens: claims, local HS256 signing and verification.
