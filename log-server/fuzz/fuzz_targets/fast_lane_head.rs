#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| gazette_http_fuzz::lane::fast_lane_head(data));
