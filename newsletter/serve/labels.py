"""The service pages' words, per language (English when a language has no translation)."""

from __future__ import annotations

_EN = {
    "signup_title": "Subscribe to {name}",
    "signup_lead": "{about}",
    "name": "Name",
    "name_hint": "Optional. We use it to greet you.",
    "email": "Email address",
    "language": "Edition",
    "topics": "Topics",
    "subscribe": "Subscribe",
    "honeypot": "Leave this field empty",
    "check_title": "Check your inbox",
    "check_body": "If the address can receive the newsletter, a message with a confirmation "
    "link is on its way. Open it to confirm your subscription. The link works for 7 days.",
    "confirm_title": "Confirm your subscription",
    "confirm_body": "Press the button to start receiving {name} at {email}.",
    "confirm_button": "Confirm subscription",
    "confirmed_title": "You are subscribed",
    "confirmed_body": "Thank you. The next issue of {name} will reach you at {email}.",
    "link_used_title": "This link has been used",
    "link_used_body": "This confirmation link is no longer valid: it has been used already, "
    "or a newer one was sent. If you are not subscribed yet, sign up again.",
    "expired_title": "This link has expired",
    "expired_body": "Confirmation links work for 7 days. Sign up again to get a new one.",
    "invalid_title": "This link does not work",
    "invalid_body": "The link is incomplete or has been changed. Copy the whole link from "
    "the email, or sign up again.",
    "unsubscribe_title": "Unsubscribe",
    "unsubscribe_body": "Stop sending {name} to {email}?",
    "unsubscribe_button": "Unsubscribe",
    "instead_preferences": "Or change your edition and topics instead.",
    "unsubscribed_title": "You are unsubscribed",
    "unsubscribed_body": "{email} will not receive {name} again. Changed your mind? You can "
    "subscribe again at any time.",
    "preferences_title": "Your preferences",
    "preferences_lead": "Choose what {name} sends to {email}.",
    "save": "Save preferences",
    "saved": "Your preferences are saved.",
    "unsubscribe_instead": "Unsubscribe from all issues",
    "errors_title": "Please correct the form",
    "error_email": "Enter a valid email address, like name@example.org.",
    "error_name": "Use at most 100 characters, on one line.",
    "error_language": "Choose one of the editions.",
    "error_topics": "Choose topics from the list.",
    "error_consent": "Tick the box to agree to receive the newsletter.",
    "too_many_title": "Too many requests",
    "too_many_body": "Please wait a few minutes and try again.",
    "forbidden_title": "Please use the sign-up form",
    "forbidden_body": "This request did not come from the sign-up form, or the form had been "
    "open for too long. Open the form again and resubmit it.",
    "not_found_title": "Page not found",
    "not_found_body": "There is nothing at this address.",
    "back_to_signup": "Go to the sign-up form",
    "archive": "Read past issues",
    "privacy": "We keep your address, your choices and a record of your consent, and use "
    "them only to send this newsletter.",
    "confirm_mail_subject": "Confirm your subscription to {name}",
    "confirm_mail_intro": "Someone, probably you, asked to receive {name} at this address.",
    "confirm_mail_action": "Confirm subscription",
    "confirm_mail_ignore": "If it was not you, ignore this message: nothing will be sent "
    "unless the link is used. The link works for 7 days.",
    "language_name_en": "English",
    "language_name_nb": "Norsk bokmål",
    "language_name_nn": "Norsk nynorsk",
    "language_name_no": "Norsk",
}
_NB = {
    "signup_title": "Abonner på {name}",
    "signup_lead": "{about}",
    "name": "Navn",
    "name_hint": "Valgfritt. Vi bruker det når vi hilser på deg.",
    "email": "E-postadresse",
    "language": "Utgave",
    "topics": "Temaer",
    "subscribe": "Abonner",
    "honeypot": "La dette feltet stå tomt",
    "check_title": "Sjekk innboksen din",
    "check_body": "Hvis adressen kan motta nyhetsbrevet, er en e-post med en bekreftelseslenke "
    "på vei. Åpne den for å bekrefte abonnementet. Lenken virker i 7 dager.",
    "confirm_title": "Bekreft abonnementet",
    "confirm_body": "Trykk på knappen for å få {name} til {email}.",
    "confirm_button": "Bekreft abonnement",
    "confirmed_title": "Du abonnerer nå",
    "confirmed_body": "Takk. Neste utgave av {name} kommer til {email}.",
    "link_used_title": "Denne lenken er brukt",
    "link_used_body": "Bekreftelseslenken virker ikke lenger: den er allerede brukt, eller en "
    "nyere er sendt. Hvis du ikke abonnerer ennå, kan du melde deg på igjen.",
    "expired_title": "Lenken er utløpt",
    "expired_body": "Bekreftelseslenker virker i 7 dager. Meld deg på igjen for å få en ny.",
    "invalid_title": "Lenken virker ikke",
    "invalid_body": "Lenken er ufullstendig eller endret. Kopier hele lenken fra e-posten, "
    "eller meld deg på igjen.",
    "unsubscribe_title": "Meld deg av",
    "unsubscribe_body": "Slutte å sende {name} til {email}?",
    "unsubscribe_button": "Meld meg av",
    "instead_preferences": "Eller endre utgave og temaer i stedet.",
    "unsubscribed_title": "Du er meldt av",
    "unsubscribed_body": "{email} får ikke {name} mer. Angrer du? Du kan abonnere igjen når "
    "som helst.",
    "preferences_title": "Dine innstillinger",
    "preferences_lead": "Velg hva {name} sender til {email}.",
    "save": "Lagre innstillinger",
    "saved": "Innstillingene er lagret.",
    "unsubscribe_instead": "Meld meg av alle utgaver",
    "errors_title": "Rett opp skjemaet",
    "error_email": "Skriv inn en gyldig e-postadresse, som navn@example.org.",
    "error_name": "Bruk høyst 100 tegn, på én linje.",
    "error_language": "Velg en av utgavene.",
    "error_topics": "Velg temaer fra listen.",
    "error_consent": "Kryss av for å samtykke til å motta nyhetsbrevet.",
    "too_many_title": "For mange forespørsler",
    "too_many_body": "Vent noen minutter og prøv igjen.",
    "forbidden_title": "Bruk påmeldingsskjemaet",
    "forbidden_body": "Forespørselen kom ikke fra påmeldingsskjemaet, eller skjemaet hadde "
    "vært åpent for lenge. Åpne skjemaet på nytt og send det igjen.",
    "not_found_title": "Fant ikke siden",
    "not_found_body": "Det finnes ingenting på denne adressen.",
    "back_to_signup": "Gå til påmeldingsskjemaet",
    "archive": "Les tidligere utgaver",
    "privacy": "Vi lagrer adressen din, valgene dine og en oversikt over samtykket ditt, og "
    "bruker dem bare til å sende dette nyhetsbrevet.",
    "confirm_mail_subject": "Bekreft abonnementet på {name}",
    "confirm_mail_intro": "Noen, sannsynligvis du, ba om å få {name} til denne adressen.",
    "confirm_mail_action": "Bekreft abonnement",
    "confirm_mail_ignore": "Hvis det ikke var deg, kan du se bort fra denne e-posten: ingenting "
    "blir sendt hvis lenken ikke brukes. Lenken virker i 7 dager.",
    "language_name_en": "English",
    "language_name_nb": "Norsk bokmål",
    "language_name_nn": "Norsk nynorsk",
    "language_name_no": "Norsk",
}
PAGE_LABELS = {"en": _EN, "nb": _NB, "no": _NB, "nn": _NB}


def page_labels(lang: str) -> dict[str, str]:
    return PAGE_LABELS.get(lang.split("-")[0].lower(), _EN)
