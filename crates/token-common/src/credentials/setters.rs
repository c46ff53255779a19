//! The credential words of the builders whose service signs, written once.

use std::fmt;

use super::{LoadCredentials, ProvideCredentials};

/// Where a builder was told to take credentials of type `C` from: what the setters of
/// [`credentials_setters!`](crate::credentials_setters) store (converted with `From` into
/// the builder's own field type).
pub enum CredentialsSetting<C> {
    /// Given in code; the default chain is not consulted.
    Fixed(C),
    /// A static provider, asked once at `build()`.
    Provider(Box<dyn ProvideCredentials<C>>),
    /// Temporary credentials, loaded when needed and again ahead of their expiry.
    Loader(Box<dyn LoadCredentials<C>>),
}

impl<C: fmt::Debug> fmt::Debug for CredentialsSetting<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsSetting::Fixed(c) => f.debug_tuple("Fixed").field(c).finish(),
            CredentialsSetting::Provider(p) => {
                f.debug_tuple("Provider").field(&p.describe()).finish()
            }
            CredentialsSetting::Loader(l) => f.debug_tuple("Loader").field(&l.describe()).finish(),
        }
    }
}

/// Writes the credential setters of a client builder whose service signs its calls —
/// `credentials`, `credentials_provider` and `credentials_loader` — with the same names,
/// types and docs in every client.
///
/// Invoke it inside the builder's `impl` block with the credentials type:
/// `token_common::credentials_setters!(NcpCredentials);`. The builder needs a field
/// `credentials: Option<T>` (another name as a first argument:
/// `credentials_setters!(keys, NcpCredentials)`) where `T: From<CredentialsSetting<C>>`,
/// so each client keeps its own way of resolving them at `build()`.
///
/// ```
/// use token_common::credentials::{CredentialsSetting, NcpCredentials};
///
/// #[derive(Default)]
/// pub struct MyClientBuilder {
///     credentials: Option<CredentialsSetting<NcpCredentials>>,
/// }
///
/// impl MyClientBuilder {
///     token_common::credentials_setters!(NcpCredentials);
/// }
///
/// let b = MyClientBuilder::default().credentials(NcpCredentials::new("AK", "SK"));
/// assert!(matches!(b.credentials, Some(CredentialsSetting::Fixed(_))));
/// assert!(!format!("{:?}", b.credentials).contains("SK\""));
/// ```
#[macro_export]
macro_rules! credentials_setters {
    ($creds:ty) => {
        $crate::credentials_setters!(credentials, $creds);
    };
    ($field:ident, $creds:ty) => {
        /// Signs with these credentials (the default chain is not consulted). Keys given in
        /// code are checked at [`build`](Self::build).
        pub fn credentials(mut self, credentials: $creds) -> Self {
            self.$field = ::std::option::Option::Some(::std::convert::From::from(
                $crate::credentials::CredentialsSetting::Fixed(credentials),
            ));
            self
        }

        /// Takes the credentials from a static provider (the environment, a profile file,
        /// your own), asked once at [`build`](Self::build), so a missing or malformed one
        /// is refused there.
        pub fn credentials_provider(
            mut self,
            provider: impl $crate::credentials::ProvideCredentials<$creds> + 'static,
        ) -> Self {
            self.$field = ::std::option::Option::Some(::std::convert::From::from(
                $crate::credentials::CredentialsSetting::Provider(::std::boxed::Box::new(provider)),
            ));
            self
        }

        /// Signs with temporary credentials from `loader` (instance metadata, STS, a
        /// chain, your own vault): loaded when first needed and again ahead of their
        /// expiry, on the client's clock, by one load shared by every caller; kept while
        /// still valid when a reload fails; and reloaded once more when the service refuses
        /// them as no longer valid.
        pub fn credentials_loader(
            mut self,
            loader: impl $crate::credentials::LoadCredentials<$creds> + 'static,
        ) -> Self {
            self.$field = ::std::option::Option::Some(::std::convert::From::from(
                $crate::credentials::CredentialsSetting::Loader(::std::boxed::Box::new(loader)),
            ));
            self
        }
    };
}
