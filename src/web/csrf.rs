//! Every form the dashboard takes carries the session's CSRF token. The
//! check is in the extractor: a handler gets its form only through
//! [`CsrfForm`], which refuses the request before the handler runs when
//! the token is not this session's, so no handler can forget it. (The
//! API, under `/api`, reads no cookie and takes no form.)

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::login_session::UserSession;

/// A urlencoded form whose `csrf_token` field was this session's token;
/// the handler sees the other fields, `T`. Decoded as `web::Form` does,
/// with the dashboard's form settings (size limit, error pages).
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for CsrfForm<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A form with no field but its token (logout, revoke).
#[derive(Deserialize)]
pub struct NoFields {}

/// What is sent: the token, and the handler's fields.
#[derive(Deserialize)]
struct Sent<T> {
    csrf_token: String,
    #[serde(flatten)]
    fields: T,
}

/// The handler's fields of a form body, decoded as the extractor's
/// `web::Form` does (serde_urlencoded), the token aside. For the fuzz
/// targets (`pgusers::web::fuzzing`).
pub(super) fn fields_of<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_urlencoded::from_bytes::<Sent<T>>(body)
        .ok()
        .map(|sent| sent.fields)
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<Sent<T>>::from_request(req, payload);
        let session = UserSession::of(req.get_session());
        Box::pin(async move {
            let Sent { csrf_token, fields } = form.await?.into_inner();
            session.check_csrf(&csrf_token)?;
            Ok(Self(fields))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use actix_session::SessionMiddleware;
    use actix_session::storage::CookieSessionStore;
    use actix_web::cookie::{Cookie, Key};
    use actix_web::test as http;
    use actix_web::{App, HttpResponse};

    use super::*;

    /// A session's form page (its token in the body) and a form, as the
    /// dashboard has them; how many times the form's handler ran.
    macro_rules! forms {
        () => {{
            let ran = Arc::new(AtomicUsize::new(0));
            let seen = ran.clone();
            let app = http::init_service(
                App::new()
                    .wrap(
                        SessionMiddleware::builder(CookieSessionStore::default(), Key::generate())
                            .cookie_secure(false)
                            .build(),
                    )
                    .route(
                        "/form",
                        web::get().to(|req: HttpRequest| async move {
                            HttpResponse::Ok().body(UserSession::of(req.get_session()).csrf_token())
                        }),
                    )
                    .route(
                        "/form",
                        web::post().to(move |_: CsrfForm<NoFields>| {
                            seen.fetch_add(1, Ordering::SeqCst);
                            async { HttpResponse::SeeOther().finish() }
                        }),
                    ),
            )
            .await;
            (app, ran)
        }};
    }

    #[actix_web::test]
    async fn a_form_acts_only_with_its_own_sessions_token() {
        let (app, ran) = forms!();
        let page =
            |app| http::call_service(app, http::TestRequest::get().uri("/form").to_request());
        let session_of = |response: &actix_web::dev::ServiceResponse| -> Cookie<'static> {
            response
                .response()
                .cookies()
                .next()
                .expect("the session's cookie")
                .into_owned()
        };
        let mine = page(&app).await;
        let cookie = session_of(&mine);
        let token = String::from_utf8(http::read_body(mine).await.to_vec()).unwrap();
        let theirs = page(&app).await;
        let their_token = String::from_utf8(http::read_body(theirs).await.to_vec()).unwrap();
        let send = |cookie: Option<Cookie<'static>>, token: &str| {
            let mut request = http::TestRequest::post()
                .uri("/form")
                .set_form([("csrf_token", token)]);
            if let Some(cookie) = cookie {
                request = request.cookie(cookie);
            }
            request.to_request()
        };

        let wrong = http::call_service(&app, send(Some(cookie.clone()), "not-the-token")).await;
        let another_sessions =
            http::call_service(&app, send(Some(cookie.clone()), &their_token)).await;
        let no_session = http::call_service(&app, send(None, &token)).await;
        let missing = http::call_service(
            &app,
            http::TestRequest::post()
                .uri("/form")
                .cookie(cookie.clone())
                .set_form([("other", "x")])
                .to_request(),
        )
        .await;

        for refused in [&wrong, &another_sessions, &no_session] {
            assert_eq!(refused.status(), 403);
        }
        assert!(missing.status().is_client_error(), "{}", missing.status());
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "no refused form reached its handler"
        );

        let own = http::call_service(&app, send(Some(cookie), &token)).await;
        assert_eq!(own.status(), 303);
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }
}
