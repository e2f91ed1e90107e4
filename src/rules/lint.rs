//! `ecowatch feeds lint`.
