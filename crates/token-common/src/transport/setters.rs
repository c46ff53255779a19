//! The builder words every client shares for its transport, written once.

/// Writes the transport setters of a client builder — `timeout`, `max_attempts`,
/// `allow_insecure_http`, `clock` and `transport` — with the same names, types and docs in
/// every client.
///
/// Invoke it inside the builder's `impl` block; the builder needs a field of type
/// [`TransportOptions`](crate::transport::TransportOptions), named `transport` unless
/// another name is given (`token_common::transport_setters!(options);`). `build()` then
/// resolves the field with [`TransportOptions::build`](crate::transport::TransportOptions::build),
/// which checks the values and refuses a prebuilt transport combined with any of
/// `timeout`, `max_attempts` or `clock`, naming the field.
///
/// ```
/// use token_common::transport::TransportOptions;
/// use token_common::{Result, Transport};
///
/// #[derive(Default)]
/// pub struct MyClientBuilder {
///     transport: TransportOptions,
/// }
///
/// impl MyClientBuilder {
///     token_common::transport_setters!();
///
///     pub fn build(self) -> Result<Transport> {
///         self.transport.build("my-client/1")
///     }
/// }
///
/// let t = MyClientBuilder::default()
///     .timeout(std::time::Duration::from_secs(5))
///     .build()?;
/// assert_eq!(t.config().attempt_timeout.as_secs(), 5);
/// let e = MyClientBuilder::default()
///     .clock(std::sync::Arc::new(token_common::clock::ManualClock::at_unix_seconds(0)))
///     .transport(Transport::builder().build()?)
///     .build()
///     .unwrap_err();
/// assert_eq!(e.field(), Some("clock"));
/// # Ok::<(), token_common::Error>(())
/// ```
#[macro_export]
macro_rules! transport_setters {
    () => {
        $crate::transport_setters!(transport);
    };
    ($field:ident) => {
        /// Time allowed for one attempt (default 30 s). Not with
        /// [`transport`](Self::transport): set it on that transport instead.
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$field.timeout = ::std::option::Option::Some(timeout);
            self
        }

        /// Attempts in all, the first included (default 3). Which failures are tried
        /// again follows the call's idempotency: a connection that failed before sending,
        /// 429 and 503 always; 502, 504, timeouts and resets only for idempotent calls. Not
        /// with [`transport`](Self::transport).
        pub fn max_attempts(mut self, attempts: u32) -> Self {
            self.$field.max_attempts = ::std::option::Option::Some(attempts);
            self
        }

        /// Allows plain `http://` to hosts other than loopback (default: refused).
        pub fn allow_insecure_http(mut self, allow: bool) -> Self {
            self.$field.allow_insecure_http = allow;
            self
        }

        /// Reads time from this clock (default: the system clock): the time requests are
        /// signed with, token and credential expiry, retry waits. A `ManualClock` or a
        /// `TokioClock` in tests. Not with [`transport`](Self::transport): give it to that
        /// transport's builder instead.
        pub fn clock(mut self, clock: ::std::sync::Arc<dyn $crate::clock::Clock>) -> Self {
            self.$field.clock = ::std::option::Option::Some(clock);
            self
        }

        /// Sends through this prebuilt transport (shared with other clients, or with an
        /// injected HTTP client or clock). Its own settings then apply in full: combining
        /// it with [`timeout`](Self::timeout), [`max_attempts`](Self::max_attempts) or
        /// [`clock`](Self::clock) is refused at `build()`.
        pub fn transport(mut self, transport: $crate::Transport) -> Self {
            self.$field.transport = ::std::option::Option::Some(transport);
            self
        }
    };
}
