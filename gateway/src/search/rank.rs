//! How results are ordered: by where the terms were found, not by each
//! store's own score (bm25 and `ts_rank` disagree), so a query ranks the same
//! on both backends. What the customer wrote now counts more than the history
//! quoted under it; a code the triage extracted counts most.

use serde::Serialize;

use super::highlight::{self, Segment};
use super::query::Query;

/// Where a term was found, weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Subject,
    Body,
    Attachment,
    Quoted,
}

impl Field {
    fn weight(self) -> f64 {
        match self {
            Field::Subject => 3.0,
            Field::Body => 2.0,
            Field::Attachment => 1.5,
            Field::Quoted => 0.5,
        }
    }
}

/// A code of the query the facts table holds for a conversation.
const FACT_EXACT: f64 = 4.0;
/// A code that contains the query's (`0417` in `22-0417`).
const FACT_PARTIAL: f64 = 1.0;
const CUSTOMER: f64 = 1.0;
const SNIPPET_CHARS: usize = 180;

/// One stored message, as the ranking reads it.
pub struct MessageDoc<'a> {
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub quoted: Option<&'a str>,
    pub attachments: &'a [String],
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MessageMatch {
    pub score: f64,
    /// The field the snippet comes from: the best one any term was found in.
    pub field: Field,
    pub snippet: Vec<Segment>,
}

/// Scores one message: each term counts for the best field it is in.
pub fn score_message(query: &Query, doc: &MessageDoc) -> MessageMatch {
    let mut fields: Vec<(Field, &str)> = Vec::new();
    if let Some(s) = doc.subject {
        fields.push((Field::Subject, s));
    }
    fields.push((Field::Body, doc.body));
    for name in doc.attachments {
        fields.push((Field::Attachment, name));
    }
    if let Some(q) = doc.quoted {
        fields.push((Field::Quoted, q));
    }
    let mut best = vec![0.0_f64; query.terms.len()];
    let mut shown: Option<(Field, &str, Vec<highlight::Hit>)> = None;
    for (field, text) in fields {
        let hits = highlight::find(query, text);
        for h in &hits {
            best[h.term] = best[h.term].max(field.weight());
        }
        // The snippet comes from the body when it holds a term, else the first field that does.
        let better = match &shown {
            None => !hits.is_empty(),
            Some((f, _, _)) => *f == Field::Subject && field == Field::Body && !hits.is_empty(),
        };
        if better {
            shown = Some((field, text, hits));
        }
    }
    let (field, text, hits) = shown.unwrap_or((Field::Body, doc.body, Vec::new()));
    MessageMatch {
        score: best.iter().sum(),
        field,
        snippet: highlight::snippet(text, &hits, SNIPPET_CHARS),
    }
}

/// What else than a message made a conversation a result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// Codes of the query found in the conversation's facts: (exact, kind, value).
    pub facts: Vec<(bool, String, String)>,
    pub customer: bool,
}

pub fn score(message: Option<&MessageMatch>, extras: &Extras) -> f64 {
    let facts: f64 = extras
        .facts
        .iter()
        .map(|(exact, _, _)| if *exact { FACT_EXACT } else { FACT_PARTIAL })
        .sum();
    message.map_or(0.0, |m| m.score) + facts + if extras.customer { CUSTOMER } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<'a>(subject: Option<&'a str>, body: &'a str, quoted: Option<&'a str>) -> MessageDoc<'a> {
        MessageDoc {
            subject,
            body,
            quoted,
            attachments: &[],
        }
    }

    #[test]
    fn a_quoted_only_match_ranks_below_a_match_in_new_text() {
        let q = Query::parse("hydraulic pump");
        let new = score_message(&q, &doc(None, "The hydraulic pump is leaking again.", None));
        let quoted = score_message(
            &q,
            &doc(
                None,
                "Thanks, any news?",
                Some("> The hydraulic pump is leaking again."),
            ),
        );
        assert!(new.score > quoted.score, "{new:?} vs {quoted:?}");
        assert_eq!(quoted.field, Field::Quoted, "the snippet shows where it matched");
    }

    #[test]
    fn the_subject_counts_more_and_the_snippet_prefers_the_body() {
        let q = Query::parse("convoyeur");
        let m = score_message(&q, &doc(Some("Convoyeur bloqué"), "Le convoyeur ne tourne plus.", None));
        assert_eq!(m.score, 3.0);
        assert_eq!(m.field, Field::Body);
    }

    #[test]
    fn an_attachment_name_is_a_place_to_be_found() {
        let q = Query::parse("schema");
        let names = ["schéma-électrique.pdf".to_string()];
        let m = score_message(
            &q,
            &MessageDoc {
                subject: None,
                body: "voir pièce jointe",
                quoted: None,
                attachments: &names,
            },
        );
        assert_eq!(m.field, Field::Attachment);
        assert!(m.snippet.iter().any(|s| s.hit && s.text == "schéma"), "{:?}", m.snippet);
    }

    #[test]
    fn an_extracted_code_outranks_prose() {
        let prose = MessageMatch {
            score: 2.0,
            field: Field::Body,
            snippet: Vec::new(),
        };
        let fact = Extras {
            facts: vec![(true, "fault_code".into(), "E-301".into())],
            customer: false,
        };
        assert!(score(Some(&prose), &fact) > score(Some(&prose), &Extras::default()));
        assert!(score(None, &fact) > score(Some(&prose), &Extras::default()));
    }
}
