//! QR codes for the page's printable certificate, drawn as SVG so that no
//! image format (and no canvas) is needed.

use qrcode::types::QrError;
use qrcode::{Color, EcLevel, QrCode};
use wasm_bindgen::prelude::*;

/// Light modules around the code, as the QR specification asks (ISO/IEC
/// 18004, section 6.3.8: four modules).
const QUIET_ZONE: usize = 4;

/// `text` as a QR code in SVG: one `<path>` of the dark modules, a
/// `viewBox` of one unit per module with a 4-module quiet zone, no colours
/// or styles of its own (the page's stylesheet gives them). Error
/// correction level M (15 % of the code may be damaged), or L (7 %) when
/// the text is too long for M; `undefined` when it is too long even for L
/// (2,953 bytes at most).
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(text: &str) -> Option<String> {
    let code = match QrCode::with_error_correction_level(text, EcLevel::M) {
        Err(QrError::DataTooLong) => QrCode::with_error_correction_level(text, EcLevel::L),
        other => other,
    }
    .ok()?;
    Some(svg(&code))
}

/// The SVG of a code: each row's runs of dark modules as rectangles of one
/// path (`M x y h run v 1 h -run z`).
fn svg(code: &QrCode) -> String {
    let width = code.width();
    let colors = code.to_colors();
    let side = width + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Light {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
            path.push_str(&format!(
                "M{} {}h{run}v1h-{run}z",
                x + QUIET_ZONE,
                y + QUIET_ZONE
            ));
            x += run;
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><path d=\"{path}\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_has_a_quiet_zone_and_one_path_of_the_dark_modules() {
        let out = qr_svg("https://gazette.example/#receipt=abc").unwrap();
        let code =
            QrCode::with_error_correction_level("https://gazette.example/#receipt=abc", EcLevel::M)
                .unwrap();
        let side = code.width() + 8;
        assert!(
            out.contains(&format!("viewBox=\"0 0 {side} {side}\"")),
            "{out}"
        );
        assert_eq!(out.matches("<path").count(), 1);
        // The top-left finder pattern: a 7-module dark run starting inside the quiet zone.
        assert!(out.contains("M4 4h7v1h-7z"), "{out}");
        let dark: usize = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        let path = out.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        // Each rectangle is `M x y h run v1 h-run z`: the runs add up to the dark modules.
        let drawn: usize = path
            .split('M')
            .skip(1)
            .map(|rect| {
                rect.split(['h', 'v'])
                    .nth(1)
                    .unwrap()
                    .parse::<usize>()
                    .unwrap()
            })
            .sum();
        assert_eq!(drawn, dark);
    }

    #[test]
    fn a_long_text_falls_back_to_level_l_and_too_long_gives_nothing() {
        // 2,331 bytes is M's limit at version 40 and L's is 2,953.
        let long = "a".repeat(2_600);
        assert!(QrCode::with_error_correction_level(&long, EcLevel::M).is_err());
        assert!(qr_svg(&long).is_some());
        assert!(qr_svg(&"a".repeat(3_000)).is_none());
    }
}
