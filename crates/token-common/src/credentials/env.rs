use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where providers read environment variables: the process environment, or a fixed map
/// (for tests and for programs that keep configuration elsewhere).
///
/// An empty variable counts as unset, as in the official SDKs.
#[derive(Clone, Default)]
pub struct Environment(Option<Arc<HashMap<String, String>>>);

impl Environment {
    /// The process environment.
    pub fn process() -> Self {
        Self(None)
    }

    /// A fixed set of variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(Some(Arc::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )))
    }

    /// A variable's value; `None` when unset, empty or not Unicode.
    pub fn get(&self, name: &str) -> Option<String> {
        let v = match &self.0 {
            None => std::env::var(name).ok(),
            Some(map) => map.get(name).cloned(),
        };
        v.filter(|v| !v.is_empty())
    }

    /// The user's home directory (`HOME`, else `USERPROFILE`).
    pub fn home_dir(&self) -> Option<PathBuf> {
        self.get("HOME")
            .or_else(|| self.get("USERPROFILE"))
            .map(PathBuf::from)
    }
}

impl fmt::Debug for Environment {
    // Lists variable names only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Environment(process)"),
            Some(map) => {
                let mut names: Vec<&String> = map.keys().collect();
                names.sort();
                f.debug_tuple("Environment").field(&names).finish()
            }
        }
    }
}
