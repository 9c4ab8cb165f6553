//! The certificate as one A4 page of PDF: the facts in rows, each label in
//! Chinese above English, the QR code at the foot. One font with Chinese
//! characters draws everything; krilla embeds the subset of it the page
//! uses, so the PDF renders the same on any machine.

use std::path::{Path, PathBuf};

use krilla::Document;
use krilla::annotation::{LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use qrcode::{Color, EcLevel, QrCode};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::Facts;

/// Fonts with Chinese characters where common systems keep them, tried in
/// order when no `--font` is given.
const FONT_PLACES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
];

/// The largest font file read.
const MAX_FONT_FILE: u64 = 64 * 1024 * 1024;

/// A4 portrait, in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.0;
/// Where values start, right of the labels.
const VALUE_X: f32 = 196.0;
/// The QR code's side, quiet zone included (about 67 mm), when the facts
/// leave room for it; never less than the second (about 49 mm).
const QR_SIDE: f32 = 190.0;
const MIN_QR_SIDE: f32 = 140.0;

/// Why a certificate could not be drawn.
#[derive(Debug)]
pub enum PdfError {
    /// No font given and none found in the usual places.
    NoFont,
    /// The font file cannot be read or is not a font.
    BadFont(PathBuf, String),
    /// The font lacks a character the certificate needs.
    MissingGlyph(PathBuf, char),
    /// The link does not fit in a QR code.
    LinkTooLong(usize),
    /// The facts (many witnesses, long names) leave no room on one page
    /// for a QR code large enough to scan.
    TooLong,
    /// krilla refused the document.
    Pdf(String),
}

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PdfError::NoFont => write!(
                f,
                "no font with Chinese characters found; install one (Debian: apt-get install fonts-wqy-microhei) or give --font <file>"
            ),
            PdfError::BadFont(path, why) => write!(f, "the font {}: {why}", path.display()),
            PdfError::MissingGlyph(path, c) => write!(
                f,
                "the font {} has no glyph for {c:?} (U+{:04X}); give --font with a font that has Chinese characters",
                path.display(),
                *c as u32
            ),
            PdfError::LinkTooLong(n) => write!(
                f,
                "the receipt's link is {n} bytes, too long for a QR code (at most 2 953); check the receipt file itself with gazette verify"
            ),
            PdfError::TooLong => write!(
                f,
                "the record's facts (witnesses, names) leave no room on one page for a readable QR code"
            ),
            PdfError::Pdf(why) => write!(f, "writing the PDF: {why}"),
        }
    }
}

/// The font certificates are drawn with.
pub struct CertificateFont {
    path: PathBuf,
    data: Vec<u8>,
    font: Font,
}

impl CertificateFont {
    /// Loads `given`, else the first font found in [`FONT_PLACES`].
    pub fn load(given: Option<&Path>) -> Result<CertificateFont, PdfError> {
        let path = match given {
            Some(path) => path.to_owned(),
            None => FONT_PLACES
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .ok_or(PdfError::NoFont)?,
        };
        let bad = |why: String| PdfError::BadFont(path.clone(), why);
        let size = std::fs::metadata(&path)
            .map_err(|e| bad(e.to_string()))?
            .len();
        if size > MAX_FONT_FILE {
            return Err(bad(format!("{size} bytes; at most {MAX_FONT_FILE}")));
        }
        let data = std::fs::read(&path).map_err(|e| bad(e.to_string()))?;
        FontRef::from_index(&data, 0).map_err(|e| bad(format!("not a font: {e}")))?;
        let font = Font::new(data.clone().into(), 0).ok_or_else(|| bad("not a font".into()))?;
        let font = CertificateFont { path, data, font };
        // The labels are in Chinese: a font without them cannot draw one.
        font.check("存证证书")?;
        Ok(font)
    }

    fn font_ref(&self) -> FontRef<'_> {
        FontRef::from_index(&self.data, 0).expect("checked when loaded")
    }

    /// Refuses text with a character the font cannot draw.
    fn check(&self, text: &str) -> Result<(), PdfError> {
        let font = self.font_ref();
        let charmap = font.charmap();
        match text
            .chars()
            .find(|&c| !c.is_whitespace() && charmap.map(c).is_none())
        {
            Some(c) => Err(PdfError::MissingGlyph(self.path.clone(), c)),
            None => Ok(()),
        }
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let font = self.font_ref();
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .filter_map(|c| charmap.map(c))
            .filter_map(|g| metrics.advance_width(g))
            .sum()
    }

    /// `text` in lines no wider than `width` at `size`: broken between
    /// words, between Chinese characters, or inside a word too long for a
    /// line (a digest, a key).
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for unit in units(text) {
            let candidate = format!("{line}{unit}");
            if self.width(candidate.trim_end(), size) <= width || line.trim().is_empty() {
                line = candidate;
                // A unit wider than a whole line is cut where it must be.
                while self.width(line.trim_end(), size) > width && line.chars().count() > 1 {
                    let cut = (1..line.chars().count())
                        .rev()
                        .map(|n| line.chars().take(n).collect::<String>())
                        .find(|head| self.width(head, size) <= width)
                        .unwrap_or_else(|| line.chars().take(1).collect());
                    let rest = line[cut.len()..].to_string();
                    lines.push(cut);
                    line = rest;
                }
            } else {
                lines.push(line.trim_end().to_string());
                line = unit.trim_start().to_string();
            }
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_string());
        }
        lines
    }
}

/// Text cut where a line may break: after spaces, and around each Chinese
/// character.
fn units(text: &str) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        let wide = is_wide(c);
        if wide && !current.is_empty() {
            units.push(std::mem::take(&mut current));
        }
        current.push(c);
        if wide || c == ' ' {
            units.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        units.push(current);
    }
    units
}

/// A character lines may break around: CJK ideographs and punctuation.
fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

/// The QR code of `link`: error correction M where it fits, else L.
pub fn qr_code(link: &str) -> Result<QrCode, PdfError> {
    QrCode::with_error_correction_level(link, EcLevel::M)
        .or_else(|_| QrCode::with_error_correction_level(link, EcLevel::L))
        .map_err(|_| PdfError::LinkTooLong(link.len()))
}

const INK: (u8, u8, u8) = (20, 24, 33);
const GREY: (u8, u8, u8) = (96, 104, 116);
const ACCENT: (u8, u8, u8) = (26, 77, 140);

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// A page being drawn, top to bottom.
struct Pen<'a, 'b> {
    surface: &'a mut Surface<'b>,
    font: &'a CertificateFont,
}

impl Pen<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, color: (u8, u8, u8), text: &str) {
        self.surface.set_fill(Some(fill(color)));
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn centred(&mut self, y: f32, size: f32, color: (u8, u8, u8), text: &str) {
        let x = (PAGE_W - self.font.width(text, size)) / 2.0;
        self.text(x, y, size, color, text);
    }

    /// Wrapped text from (x, y) within `width`; returns where it ends.
    fn paragraph(
        &mut self,
        x: f32,
        y: f32,
        width: f32,
        size: f32,
        color: (u8, u8, u8),
        text: &str,
    ) -> f32 {
        let mut y = y;
        for line in self.font.wrap(text, size, width) {
            self.text(x, y, size, color, &line);
            y += size * 1.35;
        }
        y
    }

    fn rule(&mut self, y: f32, width: f32, color: (u8, u8, u8)) {
        self.stroke_rect(MARGIN, y, PAGE_W - 2.0 * MARGIN, 0.0, width, color);
    }

    fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, color: (u8, u8, u8)) {
        let mut pb = PathBuilder::new();
        if h == 0.0 {
            pb.move_to(x, y);
            pb.line_to(x + w, y);
        } else if let Some(rect) = Rect::from_xywh(x, y, w, h) {
            pb.push_rect(rect);
        }
        let Some(path) = pb.finish() else { return };
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(color.0, color.1, color.2).into(),
            width,
            ..Default::default()
        }));
        self.surface.draw_path(&path);
        self.surface.set_stroke(None);
    }

    /// One row: its label in Chinese over English, its value lines (each
    /// `(size, colour, text)`) wrapped beside it. Returns the next row's y.
    fn row(&mut self, y: f32, zh: &str, en: &str, values: &[(f32, (u8, u8, u8), String)]) -> f32 {
        self.text(MARGIN, y, 10.5, INK, zh);
        let label_end = self.paragraph(MARGIN, y + 13.0, VALUE_X - MARGIN - 10.0, 8.5, GREY, en);
        let mut value_y = y;
        for (size, color, text) in values {
            value_y = self.paragraph(
                VALUE_X,
                value_y,
                PAGE_W - MARGIN - VALUE_X,
                *size,
                *color,
                text,
            );
        }
        label_end.max(value_y) + 9.0
    }

    fn qr(&mut self, code: &QrCode, x: f32, y: f32, side: f32) {
        let width = code.width();
        let module = side / (width + 8) as f32;
        let mut pb = PathBuilder::new();
        for (i, color) in code.to_colors().into_iter().enumerate() {
            if color == Color::Dark {
                let (col, row) = ((i % width) as f32, (i / width) as f32);
                if let Some(rect) = Rect::from_xywh(
                    x + (col + 4.0) * module,
                    y + (row + 4.0) * module,
                    module,
                    module,
                ) {
                    pb.push_rect(rect);
                }
            }
        }
        if let Some(path) = pb.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(fill((0, 0, 0))));
            self.surface.draw_path(&path);
        }
    }
}

/// Every string the page draws, for the font check.
fn all_text(facts: &Facts) -> String {
    let mut text = String::new();
    for row in rows(facts) {
        text.push_str(row.0);
        text.push_str(row.1);
        for (_, _, value) in &row.2 {
            text.push_str(value);
        }
    }
    for line in FIXED_TEXT {
        text.push_str(line);
    }
    text.push_str(&facts.link);
    text.push_str(&facts.receipt_name);
    text
}

const TITLE_ZH: &str = "存证证书";
const TITLE_EN: &str = "Evidence certificate";
const SUBTITLE: &str = "Gazette 公共记录日志 · Gazette public record log";
const SCAN_ZH: &str = "扫描二维码，在核验页面上查看此记录是否仍然有效。回执随链接中“#”之后的部分传递，不会发送给任何服务器。";
const SCAN_EN: &str = "Scan the code to check this record on the verification page, including whether it is still valid. The receipt travels after the “#” in the link and never reaches a server.";
const FIXED_TEXT: &[&str] = &[
    TITLE_ZH,
    TITLE_EN,
    SUBTITLE,
    SCAN_ZH,
    SCAN_EN,
    "核验页面 Verification page",
];

type Row<'a> = (&'a str, &'a str, Vec<(f32, (u8, u8, u8), String)>);

/// The rows of facts, in order.
fn rows(facts: &Facts) -> Vec<Row<'_>> {
    let big = |text: String| (11.5, INK, text);
    let small = |text: String| (8.5, GREY, text);
    let mut agency = vec![big(facts.agency_zh.clone())];
    if facts.agency_en != facts.agency_zh {
        agency.push(big(facts.agency_en.clone()));
    }
    agency.push(small(facts.agency_key.clone()));
    let mut kind = vec![big(facts.kind_zh.clone())];
    if facts.kind_en != facts.kind_zh {
        kind.push(big(facts.kind_en.clone()));
    }
    kind.push(small(facts.kind.clone()));
    let mut digest = vec![(10.0, INK, facts.digest.clone())];
    if let Some(document) = &facts.document {
        digest.push(small(document.clone()));
    }
    let witnesses = if facts.witnesses.is_empty() {
        vec![big("无见证人 No witness".into())]
    } else {
        facts
            .witnesses
            .iter()
            .map(|(name, time)| big(format!("{name}  ·  {time}")))
            .collect()
    };
    vec![
        ("签发机构", "Issuing agency", agency),
        ("记录类型", "Kind of record", kind),
        ("记录编号", "Record number", vec![big(facts.id.clone())]),
        ("文件指纹 (SHA-256)", "Document fingerprint", digest),
        ("签发时间", "Time of issue", vec![big(facts.issued.clone())]),
        (
            "公共日志",
            "Public log",
            vec![
                big(facts.origin.clone()),
                small(format!("条目 Entry {}", facts.index)),
            ],
        ),
        (
            "见证检查点",
            "Witnessed checkpoint",
            vec![
                big(format!("树大小 Tree size {}", facts.size)),
                small(format!("根哈希 Root {}", facts.root)),
            ],
        ),
        ("见证人及时间", "Witnesses and times (UTC)", witnesses),
        (
            "核验结果",
            "Checked",
            facts.checked.iter().cloned().map(big).collect(),
        ),
    ]
}

/// The certificate of `facts` as PDF bytes.
pub fn render(facts: &Facts, font: &CertificateFont) -> Result<Vec<u8>, PdfError> {
    font.check(&all_text(facts))?;
    let code = qr_code(&facts.link)?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{TITLE_ZH} {TITLE_EN}: {} {} {}",
                facts.issuer, facts.kind, facts.id
            ))
            .language("zh-CN".into())
            .creator("gazette certificate".into()),
    );
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(PdfError::Pdf("page size".into()))?;
    let mut page = document.start_page_with(settings);
    // The footer sits on the frame's inner edge, the QR code between the
    // facts and the footer, as large as the room left allows.
    let footer_width = PAGE_W - 2.0 * MARGIN;
    let footer_lines = font.wrap(&facts.receipt_name, 7.0, footer_width).len() as f32;
    let footer_y = PAGE_H - 38.0 - (footer_lines - 1.0) * 7.0 * 1.35;
    let qr_side;
    let qr_y;
    {
        let mut surface = page.surface();
        let mut pen = Pen {
            surface: &mut surface,
            font,
        };
        pen.stroke_rect(24.0, 24.0, PAGE_W - 48.0, PAGE_H - 48.0, 1.6, ACCENT);
        pen.stroke_rect(29.0, 29.0, PAGE_W - 58.0, PAGE_H - 58.0, 0.5, ACCENT);
        pen.centred(84.0, 28.0, ACCENT, TITLE_ZH);
        pen.centred(110.0, 15.0, ACCENT, TITLE_EN);
        pen.centred(130.0, 9.0, GREY, SUBTITLE);
        pen.rule(142.0, 0.6, ACCENT);
        let mut y = 166.0;
        for (zh, en, values) in rows(facts) {
            y = pen.row(y, zh, en, &values);
        }
        qr_side = (footer_y - 16.0 - (y + 8.0)).min(QR_SIDE);
        if qr_side < MIN_QR_SIDE {
            return Err(PdfError::TooLong);
        }
        qr_y = footer_y - 16.0 - qr_side;
        pen.rule(qr_y - 4.0, 0.6, ACCENT);
        pen.qr(&code, MARGIN - 12.0, qr_y, qr_side);
        let text_x = MARGIN + qr_side;
        let width = PAGE_W - MARGIN - text_x;
        let mut y = qr_y + 28.0;
        y = pen.paragraph(text_x, y, width, 10.0, INK, SCAN_ZH);
        y = pen.paragraph(text_x, y + 4.0, width, 9.0, INK, SCAN_EN);
        pen.text(text_x, y + 8.0, 8.5, GREY, "核验页面 Verification page");
        pen.paragraph(text_x, y + 20.0, width, 8.0, GREY, &facts.page);
        pen.paragraph(
            MARGIN,
            footer_y,
            footer_width,
            7.0,
            GREY,
            &facts.receipt_name,
        );
        surface.finish();
    }
    if let Some(rect) = Rect::from_xywh(MARGIN - 12.0, qr_y, qr_side, qr_side) {
        page.add_annotation(
            LinkAnnotation::new(
                rect,
                Target::Action(krilla::action::LinkAction::new(facts.link.clone()).into()),
            )
            .into(),
        );
    }
    page.finish();
    document
        .finish()
        .map_err(|e| PdfError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_breaks_between_words_and_around_chinese_characters() {
        assert_eq!(units("a bc"), ["a ", "bc"]);
        assert_eq!(units("存证ab"), ["存", "证", "ab"]);
    }

    fn facts(witnesses: usize) -> Facts {
        let text = |s: &str| s.to_owned();
        Facts {
            issuer: text("land.example.gov"),
            agency_zh: text("土地登记局"),
            agency_en: text("Land Registry"),
            agency_key: text("密钥 Key land.example.gov+01234567"),
            kind: text("deed"),
            kind_zh: text("契据"),
            kind_en: text("Deed"),
            id: text("D-1"),
            digest: format!("sha256:{}", "ab".repeat(32)),
            document: None,
            issued: text("2026-12-05T00:00:00Z (UTC)"),
            origin: text("log.example/log"),
            index: 7,
            size: 8,
            root: "A".repeat(44),
            witnesses: (0..witnesses)
                .map(|i| (format!("w{i}"), text("2026-12-05T00:00:01Z")))
                .collect(),
            checked: vec![text("离线核验通过 Verified offline")],
            page: text("https://log.example/"),
            link: format!("https://log.example/#receipt={}", "A".repeat(1500)),
            receipt_name: text("r.tlog-proof"),
        }
    }

    #[test]
    fn facts_that_leave_no_room_for_a_readable_qr_code_are_refused() {
        // The font scripts/test installs (Debian's fonts-wqy-microhei), or
        // whichever the machine has.
        let Ok(font) = CertificateFont::load(None) else {
            panic!("no font with Chinese characters: apt-get install fonts-wqy-microhei");
        };
        let pdf = render(&facts(3), &font).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(matches!(render(&facts(20), &font), Err(PdfError::TooLong)));
    }

    #[test]
    fn a_link_too_long_for_a_qr_code_is_refused() {
        assert!(qr_code(&"a".repeat(1000)).is_ok());
        assert!(matches!(
            qr_code(&"a".repeat(3000)),
            Err(PdfError::LinkTooLong(3000))
        ));
    }
}
