//! RFC 3161 signed timestamps from the trust root's timestamp authorities.
