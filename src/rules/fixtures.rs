//! `ecowatch feeds test`.
