//! Signed certificate timestamps (RFC 6962) embedded in Fulcio certificates.
