//! FAQ knowledge base: Markdown entries with TOML front matter between `+++`
//! lines, and a matcher that scores how well an entry answers a message.
//!
//! ```text
//! +++
//! id = "manual"
//! title = "Where to find the manual"
//! languages = ["fr", "en"]
//! questions = ["où trouver la notice", "where is the manual"]
//! keywords = ["notice", "manual"]
//! mode = "auto_send"        # or "draft": an agent checks it first
//! +++
//! The answer, in Markdown.
//! ```

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::fold::{Folded, fold_phrase};
use crate::rules::Lang;
use crate::verdict::FaqMatch;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    title: Option<String>,
    #[serde(default)]
    languages: Vec<String>,
    questions: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    mode: String,
}

#[derive(Debug, Clone)]
pub struct KbEntry {
    pub id: String,
    pub title: Option<String>,
    pub languages: Vec<Lang>,
    pub auto_send: bool,
    pub answer: String,
    questions: Vec<Vec<String>>,
    keywords: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {message}")]
pub struct KbError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    entries: Vec<KbEntry>,
    /// Inverse document frequency of each token over all question variants.
    idf: HashMap<String, f32>,
    threshold: f32,
}

/// Words too common to say what a question is about (folded).
const STOP: &[&str] = &[
    "le",
    "la",
    "les",
    "des",
    "une",
    "un",
    "est",
    "et",
    "de",
    "du",
    "pour",
    "sur",
    "dans",
    "avec",
    "ou",
    "que",
    "qui",
    "je",
    "nous",
    "vous",
    "on",
    "mon",
    "ma",
    "mes",
    "votre",
    "vos",
    "notre",
    "nos",
    "ce",
    "cette",
    "comment",
    "quel",
    "quelle",
    "the",
    "a",
    "an",
    "is",
    "are",
    "and",
    "of",
    "to",
    "for",
    "on",
    "in",
    "with",
    "how",
    "what",
    "where",
    "can",
    "i",
    "we",
    "my",
    "our",
    "your",
    "do",
    "der",
    "die",
    "das",
    "und",
    "ist",
    "ein",
    "eine",
    "wie",
    "wo",
    "fur",
    "ich",
    "wir",
    "el",
    "los",
    "las",
    "y",
    "es",
    "en",
    "con",
    "por",
    "para",
    "como",
    "donde",
    "il",
    "lo",
    "gli",
    "e",
    "di",
    "per",
    "con",
    "come",
    "dove",
    "mi",
    "ho",
    "bonjour",
    "hello",
    "hallo",
    "hola",
    "ciao",
    "buongiorno",
    "merci",
    "thanks",
    "danke",
    "gracias",
    "grazie",
    "svp",
    "please",
    "bitte",
];

pub const DEFAULT_THRESHOLD: f32 = 0.5;

pub fn tokens(folded: &str) -> Vec<String> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3 && !STOP.contains(w))
        .map(stem)
        .collect()
}

/// Plural and a few inflections off, so "pieces" meets "piece".
fn stem(word: &str) -> String {
    let w = word
        .strip_suffix("es")
        .filter(|s| s.len() >= 4)
        .or_else(|| word.strip_suffix('s').filter(|s| s.len() >= 3));
    w.unwrap_or(word).to_string()
}

impl KbEntry {
    pub fn parse(file: &str, content: &str) -> Result<KbEntry, KbError> {
        let err = |line: usize, message: String| KbError {
            file: file.to_string(),
            line,
            message,
        };
        let rest = content.strip_prefix("+++").ok_or_else(|| {
            err(
                1,
                "an entry starts with a +++ line, then TOML front matter, then +++".into(),
            )
        })?;
        let end = rest
            .find("\n+++")
            .ok_or_else(|| err(1, "the front matter has no closing +++ line".into()))?;
        let (front, body) = (&rest[..end], &rest[end + 4..]);
        let front: FrontMatter = toml::from_str(front).map_err(|e| {
            let line = e
                .span()
                .map(|s| front[..s.start.min(front.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            err(line, e.message().trim().to_string())
        })?;
        let auto_send = match front.mode.as_str() {
            "auto_send" => true,
            "draft" => false,
            other => return Err(err(1, format!("mode {other:?}: use auto_send or draft"))),
        };
        if front.questions.is_empty() {
            return Err(err(1, "give at least one question variant".into()));
        }
        let mut languages = Vec::new();
        for l in &front.languages {
            languages.push(Lang::parse(l).ok_or_else(|| err(1, format!("unknown language {l:?}")))?);
        }
        Ok(KbEntry {
            id: front.id,
            title: front.title,
            languages,
            auto_send,
            answer: body.trim_start_matches(['\r', '\n']).trim_end().to_string(),
            questions: front
                .questions
                .iter()
                .map(|q| tokens(&fold_phrase(q)))
                .filter(|t| !t.is_empty())
                .collect(),
            keywords: front
                .keywords
                .iter()
                .map(|k| fold_phrase(k))
                .filter(|k| !k.is_empty())
                .collect(),
        })
    }
}

impl KnowledgeBase {
    /// From `(file name, content)` pairs; every broken entry is reported.
    pub fn from_files(files: &[(String, String)], threshold: f32) -> Result<KnowledgeBase, Vec<KbError>> {
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        let mut ids = HashSet::new();
        for (name, content) in files {
            match KbEntry::parse(name, content) {
                Ok(e) if !ids.insert(e.id.clone()) => errors.push(KbError {
                    file: name.clone(),
                    line: 1,
                    message: format!("id {:?} is used twice", e.id),
                }),
                Ok(e) => entries.push(e),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(KnowledgeBase::new(entries, threshold))
    }

    pub fn new(entries: Vec<KbEntry>, threshold: f32) -> Self {
        let mut df: HashMap<String, f32> = HashMap::new();
        let mut docs = 0f32;
        for e in &entries {
            for q in &e.questions {
                docs += 1.0;
                for t in q.iter().collect::<HashSet<_>>() {
                    *df.entry(t.clone()).or_default() += 1.0;
                }
            }
        }
        let idf = df.into_iter().map(|(t, n)| (t, (1.0 + docs / n).ln())).collect();
        KnowledgeBase {
            entries,
            idf,
            threshold,
        }
    }

    /// The shipped entries as `(file name, content)`, for adding to.
    pub fn builtin_files() -> Vec<(String, String)> {
        DEFAULT_KB
            .iter()
            .map(|(name, content)| ((*name).to_string(), (*content).to_string()))
            .collect()
    }

    /// The small demo knowledge base that ships with the binary.
    pub fn builtin() -> Self {
        let files = Self::builtin_files();
        match KnowledgeBase::from_files(&files, DEFAULT_THRESHOLD) {
            Ok(kb) => kb,
            // Shipped entries are tested; a failure is a build defect, not input.
            Err(e) => panic!("built-in knowledge base is invalid: {e:?}"),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The best entry for a message, if it scores at least the threshold.
    pub fn best(&self, folded_text: &str, lang: Option<Lang>) -> Option<FaqMatch> {
        if self.entries.is_empty() {
            return None;
        }
        let message: HashSet<String> = tokens(folded_text).into_iter().collect();
        if message.is_empty() {
            return None;
        }
        let weight = |t: &String| self.idf.get(t).copied().unwrap_or(1.0);
        let mut best: Option<(f32, &KbEntry)> = None;
        for entry in &self.entries {
            let mut score = 0f32;
            for q in &entry.questions {
                let total: f32 = q.iter().map(weight).sum();
                let shared: f32 = q.iter().filter(|t| message.contains(*t)).map(weight).sum();
                if total > 0.0 {
                    score = score.max(shared / total);
                }
            }
            let keyword_hits = entry.keywords.iter().filter(|k| contains_words(folded_text, k)).count();
            score = (score + 0.2 * keyword_hits.min(2) as f32).min(1.0);
            if let Some(lang) = lang
                && !entry.languages.is_empty()
                && !entry.languages.contains(&lang)
            {
                score *= 0.8;
            }
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, entry));
            }
        }
        let (score, entry) = best?;
        (score >= self.threshold).then(|| FaqMatch {
            id: entry.id.clone(),
            score: (score * 1000.0).round() / 1000.0,
            auto_send: entry.auto_send,
            title: entry.title.clone(),
            answer: entry.answer.clone(),
        })
    }
}

fn contains_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + phrase.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        before && after
    })
}

/// Folds a message the way the matcher expects (used by callers outside the engine).
pub fn fold(text: &str) -> String {
    Folded::new(text).text
}

const DEFAULT_KB: &[(&str, &str)] = &[
    ("manual.md", include_str!("../defaults/kb/manual.md")),
    ("spare-parts.md", include_str!("../defaults/kb/spare-parts.md")),
    ("invoice.md", include_str!("../defaults/kb/invoice.md")),
    ("training.md", include_str!("../defaults/kb/training.md")),
    ("alarm-reset.md", include_str!("../defaults/kb/alarm-reset.md")),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_entries_parse() {
        assert_eq!(KnowledgeBase::builtin().len(), DEFAULT_KB.len());
    }

    #[test]
    fn finds_the_manual_in_several_languages() {
        let kb = KnowledgeBase::builtin();
        for text in [
            "Bonjour, où puis-je trouver la notice de la presse P200 ?",
            "Hello, where can I download the user manual?",
            "Wo finde ich die Bedienungsanleitung?",
            "¿Dónde encuentro el manual de usuario?",
            "Dove trovo il manuale d'uso?",
        ] {
            let m = kb.best(&fold(text), None);
            assert_eq!(m.as_ref().map(|m| m.id.as_str()), Some("manual"), "{text}: {m:?}");
        }
    }

    #[test]
    fn unrelated_text_matches_nothing() {
        let kb = KnowledgeBase::builtin();
        assert_eq!(
            kb.best(&fold("la machine fait un bruit bizarre depuis lundi"), Some(Lang::Fr)),
            None
        );
    }

    #[test]
    fn broken_entries_say_where() {
        let files = vec![
            ("a.md".to_string(), "no front matter".to_string()),
            (
                "b.md".to_string(),
                "+++\nid = \"x\"\nquestions = []\nmode = \"draft\"\n+++\nbody".to_string(),
            ),
            (
                "c.md".to_string(),
                "+++\nid = \"y\"\nquestions = [\"q\"]\nmode = \"sometimes\"\n+++\n".to_string(),
            ),
            (
                "d.md".to_string(),
                "+++\nid = \"z\"\nquestions = [\"q\"]\nmode = \"draft\"\ncolour = 1\n+++\n".to_string(),
            ),
        ];
        let errors = KnowledgeBase::from_files(&files, DEFAULT_THRESHOLD)
            .err()
            .unwrap_or_default();
        assert_eq!(errors.len(), 4);
        assert_eq!(errors[3].line, 5, "{:?}", errors[3]);
    }
}
