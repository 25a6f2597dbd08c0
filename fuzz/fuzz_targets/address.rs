//! ADDR words: `AddrSpec::parse` never panics, and every accepted address displays as text that
//! parses back to the same value: parse(display(parse(x))) == parse(x).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sockplay::lang::AddrSpec;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match AddrSpec::parse(text, 7) {
        Err(error) => assert_eq!(error.column, 7, "{text:?}"),
        Ok(addr) => {
            let shown = addr.to_string();
            let again = AddrSpec::parse(&shown, 1);
            assert_eq!(again.as_ref(), Ok(&addr), "{text:?} displayed as {shown:?}");
            // Display is stable from then on.
            assert_eq!(again.map(|a| a.to_string()), Ok(shown));
        }
    }
});
