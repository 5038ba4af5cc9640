//! `GET /api/v1/canned-replies`: the replies agents insert by a short keyword,
//! saved in the inbox (Lists page), else `[[canned_replies]]`, else a built-in set.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentAgent;
use crate::config::CannedReply;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Serialize, ToSchema)]
struct CannedReplies {
    canned_replies: Vec<CannedReply>,
}

const BUILT_IN: &[(&str, &str, &str)] = &[
    (
        "photo",
        "fr",
        "Pouvez-vous nous envoyer une photo de l'écran d'erreur et de la plaque signalétique de la machine ?",
    ),
    (
        "photo",
        "en",
        "Could you send us a photo of the error screen and of the machine's rating plate?",
    ),
    (
        "serie",
        "fr",
        "Pouvez-vous nous indiquer le numéro de série de la machine (plaque signalétique, à l'arrière) ?",
    ),
    (
        "serial",
        "en",
        "Could you tell us the machine's serial number (rating plate, at the back)?",
    ),
    (
        "rappel",
        "fr",
        "Un technicien vous rappelle dans les prochaines minutes au numéro indiqué.",
    ),
    (
        "callback",
        "en",
        "A technician will call you back within the next few minutes on the number you gave.",
    ),
    (
        "merci",
        "fr",
        "Merci pour votre retour. Nous clôturons la demande ; répondez à ce message si le problème revient.",
    ),
    (
        "thanks",
        "en",
        "Thank you for your feedback. We are closing the request; reply to this message if the problem comes back.",
    ),
];

/// The replies shipped with Switchyard, offered until a list is configured or saved.
pub(super) fn built_in() -> Vec<CannedReply> {
    BUILT_IN
        .iter()
        .map(|(keyword, language, text)| CannedReply {
            keyword: (*keyword).into(),
            language: (*language).into(),
            text: (*text).into(),
        })
        .collect()
}

/// The canned replies in force, each with its keyword and language.
#[utoipa::path(get, path = "/api/v1/canned-replies", tag = "conversations",
    responses((status = 200, body = CannedReplies)))]
async fn list(
    State(state): State<AppState>,
    _agent: CurrentAgent,
) -> Result<Json<CannedReplies>, super::error::ApiError> {
    let (replies, _) = super::lists::canned_in_force(&state).await?;
    Ok(Json(CannedReplies {
        canned_replies: replies,
    }))
}
