//! `/feedback/{conversation}/{answer}`: the one-click links of a mail, for a
//! customer without an account. The link is signed for one conversation and
//! one answer and expires; the store takes each answer once.
//!
//! Opening the link (GET) only shows the answer with a confirm button and, for
//! a rating, a comment box; the POST of that form records it. Mail security
//! scanners open every link of a mail before the customer does: a GET that
//! recorded would let them answer for the customer.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use crate::events::Event;
use crate::ids::ConversationId;
use crate::level1::feedback::{self, Answer};
use crate::state::AppState;
use crate::store::feedback::Rated;

const MAX_COMMENT_CHARS: usize = 2_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/feedback/{conversation}/{answer}", get(show).post(record))
}

#[derive(Deserialize)]
struct Signed {
    exp: i64,
    sig: String,
}

#[derive(Deserialize)]
struct Comment {
    #[serde(default)]
    comment: String,
}

struct Words {
    title: &'static str,
    your_answer: &'static str,
    comment: &'static str,
    confirm: &'static str,
    thanks: &'static str,
    already: &'static str,
    invalid: &'static str,
}

fn words(language: &str) -> Words {
    match language {
        "fr" => Words {
            title: "Votre réponse",
            your_answer: "Votre réponse :",
            comment: "Un commentaire (facultatif)",
            confirm: "Confirmer",
            thanks: "Merci, votre réponse est enregistrée.",
            already: "Vous avez déjà répondu : merci.",
            invalid: "Ce lien n'est plus valide.",
        },
        "de" => Words {
            title: "Ihre Antwort",
            your_answer: "Ihre Antwort:",
            comment: "Ein Kommentar (optional)",
            confirm: "Bestätigen",
            thanks: "Danke, Ihre Antwort ist gespeichert.",
            already: "Sie haben bereits geantwortet: danke.",
            invalid: "Dieser Link ist nicht mehr gültig.",
        },
        "es" => Words {
            title: "Su respuesta",
            your_answer: "Su respuesta:",
            comment: "Un comentario (opcional)",
            confirm: "Confirmar",
            thanks: "Gracias, su respuesta ha quedado registrada.",
            already: "Ya ha respondido: gracias.",
            invalid: "Este enlace ya no es válido.",
        },
        "it" => Words {
            title: "La sua risposta",
            your_answer: "La sua risposta:",
            comment: "Un commento (facoltativo)",
            confirm: "Conferma",
            thanks: "Grazie, la sua risposta è registrata.",
            already: "Ha già risposto: grazie.",
            invalid: "Questo link non è più valido.",
        },
        _ => Words {
            title: "Your answer",
            your_answer: "Your answer:",
            comment: "A comment (optional)",
            confirm: "Confirm",
            thanks: "Thank you, your answer is recorded.",
            already: "You have already answered: thank you.",
            invalid: "This link is no longer valid.",
        },
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, language: &str, body: &str) -> Response {
    let w = words(language);
    let html = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{}</title>\
         <style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}\
         textarea{{width:100%;min-height:6rem}}button{{font:inherit;padding:.5rem 1.5rem;margin-top:1rem}}</style>\
         </head><body>{body}</body></html>",
        escape(language),
        w.title
    );
    (
        status,
        [("cache-control", "no-store"), ("x-robots-tag", "noindex")],
        Html(html),
    )
        .into_response()
}

/// The link's answer and the conversation's language, if the signature holds.
async fn checked(
    state: &AppState,
    conversation: i64,
    answer: &str,
    signed: &Signed,
) -> Result<(Answer, String), Response> {
    let now = state.clock.now_ms();
    let valid = state
        .signer
        .feedback_link_valid(conversation, answer, signed.exp, &signed.sig, now);
    let language = match state.store.conversation_get(ConversationId(conversation)).await {
        Ok(Some(c)) => c.language.unwrap_or_else(|| "en".into()),
        _ => "en".into(),
    };
    match Answer::parse(answer).filter(|_| valid) {
        Some(a) => Ok((a, language)),
        None => Err(page(
            StatusCode::GONE,
            &language,
            &format!("<p>{}</p>", words(&language).invalid),
        )),
    }
}

async fn show(
    State(state): State<AppState>,
    Path((conversation, answer)): Path<(i64, String)>,
    Query(signed): Query<Signed>,
) -> Response {
    let (answer, language) = match checked(&state, conversation, &answer, &signed).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let w = words(&language);
    let comment = if answer.is_rating() {
        format!(
            "<p><label for=\"comment\">{}</label><br><textarea id=\"comment\" name=\"comment\" maxlength=\"{MAX_COMMENT_CHARS}\"></textarea></p>",
            w.comment
        )
    } else {
        String::new()
    };
    let body = format!(
        "<form method=\"post\" action=\"?exp={}&amp;sig={}\"><p>{} <strong>{}</strong></p>{comment}\
         <button type=\"submit\">{}</button></form>",
        signed.exp,
        escape(&signed.sig),
        w.your_answer,
        escape(feedback::title(&language, answer)),
        w.confirm
    );
    page(StatusCode::OK, &language, &body)
}

async fn record(
    State(state): State<AppState>,
    Path((conversation, answer)): Path<(i64, String)>,
    Query(signed): Query<Signed>,
    Form(form): Form<Comment>,
) -> Response {
    let (answer, language) = match checked(&state, conversation, &answer, &signed).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let comment: String = form.comment.chars().take(MAX_COMMENT_CHARS).collect();
    let id = ConversationId(conversation);
    let w = words(&language);
    match state
        .store
        .feedback_answer(
            id,
            answer,
            Some(&comment),
            "email",
            &state.feedback,
            state.clock.now_ms(),
        )
        .await
    {
        Ok(Rated::Recorded) => {
            state.events.publish(Event::ConversationUpdated { conversation });
            state.assign_wake.notify_one();
            state.outbox_wake.notify();
            page(StatusCode::OK, &language, &format!("<p>{}</p>", w.thanks))
        }
        Ok(Rated::AlreadyAnswered) => page(StatusCode::CONFLICT, &language, &format!("<p>{}</p>", w.already)),
        Ok(Rated::NotWaiting) => page(StatusCode::GONE, &language, &format!("<p>{}</p>", w.invalid)),
        Err(e) => {
            tracing::error!(error = %e, conversation, "recording feedback failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                &language,
                "<p>Please try again in a moment.</p>",
            )
        }
    }
}
