//! The report as a PDF the customer can file: A4, DejaVu Sans embedded (every
//! accent of the five languages, no font needed on the reader's side), text
//! wrapped by the glyphs' own widths, new pages as the text needs them.

use std::io::Cursor;

use printpdf::{Color, IndirectFontRef, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference, Rgb};

use super::document::Block;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
const PT_TO_MM: f32 = 0.352_778;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("embedded font: {0}")]
    Font(String),
    #[error("pdf: {0}")]
    Pdf(String),
}

/// Glyph widths of one embedded font, for wrapping.
struct Metrics<'a>(ttf_parser::Face<'a>);

impl Metrics<'_> {
    fn new(data: &[u8]) -> Result<Metrics<'_>, PdfError> {
        ttf_parser::Face::parse(data, 0)
            .map(Metrics)
            .map_err(|e| PdfError::Font(e.to_string()))
    }

    /// Width of `text` at `size` points, in mm.
    fn width(&self, text: &str, size: f32) -> f32 {
        let per_em = f32::from(self.0.units_per_em().max(1));
        let units: u32 = text
            .chars()
            .map(|c| {
                self.0
                    .glyph_index(c)
                    .and_then(|g| self.0.glyph_hor_advance(g))
                    .map_or(u32::from(self.0.units_per_em() / 2), u32::from)
            })
            .sum();
        units as f32 / per_em * size * PT_TO_MM
    }

    /// `text` cut into lines no wider than `max` mm, on spaces; a word longer
    /// than a line is cut where it must be.
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.lines() {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= max {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line: as many characters as fit, then the rest.
                let mut rest = word.to_string();
                while self.width(&rest, size) > max {
                    let mut cut = String::new();
                    for c in rest.chars() {
                        if self.width(&format!("{cut}{c}"), size) > max && !cut.is_empty() {
                            break;
                        }
                        cut.push(c);
                    }
                    rest = rest.chars().skip(cut.chars().count()).collect();
                    lines.push(cut);
                }
                line = rest;
            }
            lines.push(line);
        }
        lines
    }
}

/// Writes lines top to bottom, opening a page when one is full.
struct Writer<'a> {
    doc: &'a PdfDocumentReference,
    layer: PdfLayerReference,
    y: f32,
    regular: IndirectFontRef,
    bold: IndirectFontRef,
    metrics: Metrics<'a>,
    bold_metrics: Metrics<'a>,
}

impl Writer<'_> {
    fn line_height(size: f32) -> f32 {
        size * 1.4 * PT_TO_MM
    }

    fn room(&mut self, needed: f32) {
        if self.y - needed < MARGIN {
            let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "text");
            self.layer = self.doc.get_page(page).get_layer(layer);
            self.y = PAGE_H - MARGIN;
        }
    }

    fn text(&mut self, text: &str, size: f32, bold: bool, indent: f32, grey: bool) {
        let max = PAGE_W - 2.0 * MARGIN - indent;
        let lines = if bold {
            self.bold_metrics.wrap(text, size, max)
        } else {
            self.metrics.wrap(text, size, max)
        };
        let color = if grey { 0.35 } else { 0.1 };
        self.layer
            .set_fill_color(Color::Rgb(Rgb::new(color, color, color, None)));
        for line in lines {
            let h = Self::line_height(size);
            self.room(h);
            self.y -= h;
            let font = if bold { &self.bold } else { &self.regular };
            self.layer.use_text(line, size, Mm(MARGIN + indent), Mm(self.y), font);
        }
    }

    fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }
}

pub fn render(blocks: &[Block], title: &str) -> Result<Vec<u8>, PdfError> {
    let (doc, page, layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "text");
    let regular = doc
        .add_external_font(Cursor::new(REGULAR))
        .map_err(|e| PdfError::Font(e.to_string()))?;
    let bold = doc
        .add_external_font(Cursor::new(BOLD))
        .map_err(|e| PdfError::Font(e.to_string()))?;
    {
        let mut w = Writer {
            layer: doc.get_page(page).get_layer(layer),
            doc: &doc,
            y: PAGE_H - MARGIN,
            regular,
            bold,
            metrics: Metrics::new(REGULAR)?,
            bold_metrics: Metrics::new(BOLD)?,
        };
        for b in blocks {
            match b {
                Block::Title(t) => {
                    w.text(t, 16.0, true, 0.0, false);
                    w.gap(1.0);
                }
                Block::Status(s) => {
                    w.text(s, 9.0, false, 0.0, true);
                    w.gap(3.0);
                }
                Block::Fact(label, value, colon) => w.text(&format!("{label}{colon}{value}"), 10.0, false, 0.0, false),
                Block::Section(label, text) => {
                    w.gap(3.0);
                    w.text(label, 12.0, true, 0.0, false);
                    w.gap(0.8);
                    w.text(text, 10.0, false, 0.0, false);
                }
                Block::List(label, items) => {
                    w.gap(3.0);
                    w.text(label, 12.0, true, 0.0, false);
                    w.gap(0.8);
                    for item in items {
                        w.text(&format!("• {item}"), 10.0, false, 2.0, false);
                    }
                }
            }
        }
    }
    doc.save_to_bytes().map_err(|e| PdfError::Pdf(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fit_the_page_and_long_words_are_cut() {
        let Ok(m) = Metrics::new(REGULAR) else { panic!("font") };
        let max = PAGE_W - 2.0 * MARGIN;
        let text = format!("{} {}", "arrêt ".repeat(60), "x".repeat(300));
        let lines = m.wrap(&text, 10.0, max);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| m.width(l, 10.0) <= max + 0.01));
        let joined: String = lines.concat().chars().filter(|c| !c.is_whitespace()).collect();
        let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(joined, original, "nothing lost");
    }

    #[test]
    fn characters_the_font_lacks_do_not_stop_the_document() {
        let blocks = vec![
            Block::Title("Rapport — SY-2 🔥".into()),
            Block::Section("Symptôme", "机器停止 — Maschine steht still 🛑 \u{200b}\u{0}".into()),
        ];
        let pdf = render(&blocks, "SY-2 🔥").unwrap_or_else(|e| panic!("{e}"));
        let parsed = lopdf::Document::load_mem(&pdf).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.get_pages().len(), 1);
    }

    #[test]
    fn a_long_report_is_a_pdf_of_several_pages() {
        let blocks = vec![
            Block::Title("Rapport d'intervention — SY-1".into()),
            Block::Section("Symptôme", "Ligne arrêtée, code E17.\n".repeat(120)),
        ];
        let Ok(pdf) = render(&blocks, "SY-1") else {
            panic!("render")
        };
        assert!(pdf.starts_with(b"%PDF-"));
        let parsed = lopdf::Document::load_mem(&pdf).unwrap_or_else(|e| panic!("{e}"));
        assert!(parsed.get_pages().len() >= 3, "120 lines of text need several pages");
    }
}
