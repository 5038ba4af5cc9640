//! Where a query's terms are in a text, read the way the stores read it, and
//! the snippet that shows them. The stores say which messages match; this
//! says where, so results are ranked and highlighted the same on both.

use serde::Serialize;

use super::query::{Query, Term, fold};

/// A term found at a byte range of the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub term: usize,
}

/// Words as the tokenizers cut them: runs of letters and digits.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

pub fn find(query: &Query, text: &str) -> Vec<Hit> {
    let spans = words(text);
    let folded: Vec<String> = spans.iter().map(|&(s, e)| fold(&text[s..e])).collect();
    let mut hits = Vec::new();
    let mut i = 0;
    while i < spans.len() {
        let mut advanced = false;
        for (t, term) in query.terms.iter().enumerate() {
            let width = match term {
                Term::Word { prefixes, exact, .. } => {
                    let w = &folded[i];
                    let found = prefixes
                        .iter()
                        .any(|p| if *exact { w == p } else { w.starts_with(p.as_str()) });
                    usize::from(found)
                }
                Term::Code { parts, joined, .. } => {
                    if folded[i] == *joined {
                        1
                    } else if parts.len() > 1
                        && folded
                            .get(i..i + parts.len())
                            .is_some_and(|run| run.iter().eq(parts.iter()))
                    {
                        parts.len()
                    } else {
                        0
                    }
                }
            };
            if width > 0 {
                hits.push(Hit {
                    start: spans[i].0,
                    end: spans[i + width - 1].1,
                    term: t,
                });
                i += width;
                advanced = true;
                break;
            }
        }
        if !advanced {
            i += 1;
        }
    }
    hits
}

/// A piece of a snippet; `hit` pieces are what matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

/// Up to about `width` characters of `text` around its first hit, with the
/// hits marked and line breaks as spaces; `…` where the text was cut.
pub fn snippet(text: &str, hits: &[Hit], width: usize) -> Vec<Segment> {
    let anchor = hits.first().map_or(0, |h| h.start);
    let mut start = back_chars(text, anchor, width / 3);
    // Start on a word when one begins near the cut.
    if start > 0
        && let Some(space) = text[start..anchor].find(char::is_whitespace)
    {
        start += space + 1;
    }
    let end = forward_chars(text, start, width);
    let mut out = Vec::new();
    let mut push = |s: &str, hit: bool| {
        let s: String = s.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
        if s.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(Segment { text, hit: h }) if *h == hit => text.push_str(&s),
            _ => out.push(Segment { text: s, hit }),
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut at = start;
    for h in hits.iter().filter(|h| h.start >= start && h.end <= end) {
        push(&text[at..h.start], false);
        push(&text[h.start..h.end], true);
        at = h.end;
    }
    push(&text[at..end], false);
    if end < text.len() {
        push("…", false);
    }
    out
}

fn back_chars(text: &str, from: usize, n: usize) -> usize {
    text[..from]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

fn forward_chars(text: &str, from: usize, n: usize) -> usize {
    text[from..].char_indices().nth(n).map_or(text.len(), |(i, _)| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(query: &str, text: &str) -> String {
        let q = Query::parse(query);
        let hits = find(&q, text);
        snippet(text, &hits, 200)
            .into_iter()
            .map(|s| if s.hit { format!("[{}]", s.text) } else { s.text })
            .collect()
    }

    #[test]
    fn marks_every_form_of_a_word_in_the_customers_spelling() {
        assert_eq!(
            marked(
                "ligne arrêtée",
                "La LIGNE 2 est ARRÊTÉE, les lignes 3 et 4 s'arrêtent aussi."
            ),
            "La [LIGNE] 2 est [ARRÊTÉE], les [lignes] 3 et 4 s'[arrêtent] aussi."
        );
    }

    #[test]
    fn marks_a_code_written_three_ways() {
        assert_eq!(
            marked("E301", "Alarm E-301, then e 301 again, now E301."),
            "Alarm [E-301], then [e 301] again, now [E301]."
        );
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_hit() {
        let text = format!("{} the pump seal leaks {}", "filler ".repeat(100), "tail ".repeat(100));
        let s = marked("seal", &text);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("[seal]"), "{s}");
        assert!(s.chars().count() < 220, "{s}");
    }

    #[test]
    fn no_hit_shows_the_beginning() {
        assert_eq!(marked("absent", "Short text."), "Short text.");
    }
}
