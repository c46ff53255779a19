//! The emulator's own errors: a configuration that cannot be read, an address that cannot
//! be bound, a server that stopped abnormally.

use std::io;
use std::path::PathBuf;

/// Why the emulator could not load its configuration, start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration could not be read or does not have the documented shape (the
    /// message names the offending key and line).
    #[error("invalid emulator configuration{}: {message}", path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    Config {
        /// The file, when it came from one.
        path: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },
    /// The listening address could not be resolved or bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address as given.
        addr: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("emulator server failed: {0}")]
    Server(#[source] io::Error),
}
