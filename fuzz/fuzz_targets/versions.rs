//! Version parsing and range checks per ecosystem on arbitrary strings: errors are fine,
//! panics are not.
#![no_main]

use ecowatch::version::{Scheme, compare, satisfies};
use libfuzzer_sys::fuzz_target;

const SCHEMES: &[Scheme] = &[
    Scheme::Npm,
    Scheme::Pep440,
    Scheme::Cargo,
    Scheme::Go,
    Scheme::RubyGems,
    Scheme::Composer,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let scheme = SCHEMES[usize::from(selector) % SCHEMES.len()];
    let (a, b) = text.split_once('\n').unwrap_or((text, ""));
    let _ = satisfies(scheme, a, b);
    let _ = compare(scheme, a, b);
});
