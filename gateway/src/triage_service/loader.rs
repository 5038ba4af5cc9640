//! Reading the rule file and the knowledge-base folder.

use std::path::Path;
use std::time::SystemTime;

use triage::{Engine, KnowledgeBase, RuleSet};

use crate::config::TriageConfig;

/// What the files looked like when last read: (path, modified, length) of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprint(Vec<(String, Option<SystemTime>, u64)>);

pub fn fingerprint(config: &TriageConfig) -> Fingerprint {
    let mut files = Vec::new();
    let mut add = |p: &Path| {
        let meta = std::fs::metadata(p).ok();
        files.push((
            p.display().to_string(),
            meta.as_ref().and_then(|m| m.modified().ok()),
            meta.map(|m| m.len()).unwrap_or(0),
        ));
    };
    if !config.rules.as_os_str().is_empty() {
        add(&config.rules);
    }
    if !config.knowledge_base.as_os_str().is_empty() {
        add(&config.knowledge_base);
        for entry in kb_files(&config.knowledge_base).unwrap_or_default() {
            add(&entry);
        }
    }
    Fingerprint(files)
}

fn kb_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    Ok(files)
}

/// Builds an engine from the configured files and the entries published from
/// the inbox (`(name, Markdown source)`, validated like files), or says
/// everything that is wrong.
pub fn load(config: &TriageConfig, published: &[(String, String)]) -> Result<Engine, String> {
    load_with(config, None, published)
}

/// The same, with rules edited in the inbox (`edited`) in place of the file's.
pub fn load_with(
    config: &TriageConfig,
    edited: Option<&str>,
    published: &[(String, String)],
) -> Result<Engine, String> {
    let rules = if let Some(source) = edited {
        RuleSet::parse(source).map_err(|e| format!("the rules edited in the inbox:\n{e}"))?
    } else if config.rules.as_os_str().is_empty() {
        RuleSet::builtin()
    } else {
        let source = std::fs::read_to_string(&config.rules).map_err(|e| format!("{}: {e}", config.rules.display()))?;
        RuleSet::parse(&source).map_err(|e| format!("{}:\n{e}", config.rules.display()))?
    };
    let (mut files, threshold) = if config.knowledge_base.as_os_str().is_empty() {
        (KnowledgeBase::builtin_files(), triage::kb::DEFAULT_THRESHOLD)
    } else {
        let dir = &config.knowledge_base;
        let mut files = Vec::new();
        for path in kb_files(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let content = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.push((path.display().to_string(), content));
        }
        (files, config.faq_threshold)
    };
    files.extend(published.iter().cloned());
    let kb = KnowledgeBase::from_files(&files, threshold)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))?;
    Ok(Engine::new(rules, kb))
}
