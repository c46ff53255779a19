//! One interface over everything that hands out Cloudforet access tokens.

use std::fmt;

use token_common::transport::BoxFuture;
use token_common::{Expiring, Result, TokenSource};

use crate::grant::GrantTokenInfo;
use crate::session::{Session, SessionAccessToken};

/// Something that hands out a valid access token and hears about 401s: a user's
/// [`Session`] (which re-grants) or an [`AppSecret`](crate::AppSecret) (which is its own
/// token). Code written against this trait runs on either.
///
/// ```
/// use cloudforet_identity_client::{AccessTokenSource, Result};
///
/// /// Calls an API with whatever credential the program was given.
/// async fn call_api(auth: &dyn AccessTokenSource) -> Result<()> {
///     let token = auth.access_token().await?;
///     let header = token.bearer(); // `Authorization: Bearer …`
///     # let _ = header;
///     // … on a 401:
///     auth.report_unauthorized(&token);
///     Ok(())
/// }
/// ```
pub trait AccessTokenSource: Send + Sync + fmt::Debug {
    /// A valid access token.
    fn access_token(&self) -> BoxFuture<'_, Result<SessionAccessToken>>;

    /// The service answered 401 to `token`.
    fn report_unauthorized(&self, token: &SessionAccessToken);
}

impl AccessTokenSource for Session {
    fn access_token(&self) -> BoxFuture<'_, Result<SessionAccessToken>> {
        Box::pin(Session::access_token(self))
    }

    fn report_unauthorized(&self, token: &SessionAccessToken) {
        Session::report_unauthorized(self, token)
    }
}

/// A session as a [`TokenSource`], like [`AppSecret`](crate::AppSecret): each fetch is
/// [`Session::access_token`] (the session's own cache decides whether to re-grant).
impl TokenSource for Session {
    type Token = GrantTokenInfo;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<GrantTokenInfo>>> {
        Box::pin(async move {
            let t = Session::access_token(self).await?;
            Ok(Expiring::new(t.info().clone(), t.expires_at()))
        })
    }
}
