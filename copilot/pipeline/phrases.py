"""The offline drafter's phrase bank: greetings, closings, small talk, the unknown-order
question and the question what a message is about, by language and register (lists give the
variants "regenerate" goes through). Part of the offline drafter's version (see
``offline.PROMPT_VERSION``). The sentence a draft says when a trigger hands over is the
trigger's own, in the policy file (``handoff``)."""

from __future__ import annotations

# Phrases by (language, formal). Lists give the variants used by "regenerate".
PHRASES: dict[tuple[str, bool], dict[str, list[str]]] = {
    ("fr", True): {
        "hello": ["Bonjour {name},", "Bonjour {name}, merci pour votre message."],
        "hello_anon": ["Bonjour,", "Bonjour, merci pour votre message."],
        "bye": [
            "N’hésitez pas si vous avez d’autres questions. Belle journée !",
            "Je reste à votre disposition pour toute autre question.",
        ],
        "checking": [
            "Je vérifie ce point auprès de l’équipe concernée et je reviens vers vous très vite."
        ],
        "chit_chat": ["Avec plaisir ! Je reste à votre disposition si besoin."],
        "details": [
            "Pouvez-vous m’en dire un peu plus : de quel produit, de quelle commande ou de quel service s’agit-il, et que se passe-t-il ?"
        ],
        "unknown": [
            "Je ne retrouve pas de commande {number}. Pouvez-vous vérifier le numéro indiqué dans l’e-mail de confirmation ?"
        ],
    },
    ("fr", False): {
        "hello": ["Bonjour {name} !", "Salut {name}, merci pour ton message !"],
        "hello_anon": ["Bonjour !", "Salut, merci pour ton message !"],
        "bye": [
            "N’hésite pas si tu as d’autres questions. Bonne journée !",
            "Je reste dispo si tu as besoin !",
        ],
        "checking": [
            "Je vérifie ce point auprès de l’équipe concernée et je reviens vers toi très vite."
        ],
        "chit_chat": ["Avec plaisir ! Je reste dispo si besoin."],
        "details": [
            "Tu peux m’en dire un peu plus : de quel produit, de quelle commande ou de quel service s’agit-il, et que se passe-t-il ?"
        ],
        "unknown": [
            "Je ne retrouve pas de commande {number}. Tu peux vérifier le numéro indiqué dans l’e-mail de confirmation ?"
        ],
    },
    ("en", True): {
        "hello": ["Hello {name},", "Hello {name}, thank you for your message."],
        "hello_anon": ["Hello,", "Hello, thank you for your message."],
        "bye": [
            "Please let me know if you have any other questions. Have a nice day!",
            "I remain at your disposal for any other question.",
        ],
        "checking": [
            "I am checking this with the team concerned and will get back to you very shortly."
        ],
        "chit_chat": ["You're welcome! Let me know if there is anything else I can do."],
        "details": [
            "Could you tell me a little more: which product, order or service is it about, and what is happening?"
        ],
        "unknown": [
            "I cannot find an order {number}. Could you check the number given in your confirmation e-mail?"
        ],
    },
}
PHRASES[("en", False)] = {
    **PHRASES[("en", True)],
    "hello": ["Hi {name}!", "Hi {name}, thanks for your message!"],
    "hello_anon": ["Hi!", "Hi, thanks for your message!"],
    "bye": ["Let me know if there's anything else!", "Happy to help with anything else!"],
    "details": [
        "Could you tell me a bit more: which product, order or service is it about, and what's happening?"
    ],
}
