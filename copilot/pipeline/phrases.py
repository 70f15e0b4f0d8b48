"""The offline drafter's phrase bank: greetings, closings and the hand-off formulas, by
language and register (lists give the variants "regenerate" goes through). Part of the offline
drafter's version (see ``offline.PROMPT_VERSION``)."""

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
        "unknown": [
            "Je ne retrouve pas de commande {number}. Pouvez-vous vérifier le numéro indiqué dans l’e-mail de confirmation ?"
        ],
        "human_request": [
            "Je vous mets en relation avec un conseiller, qui prend le relais dans cette conversation dans quelques instants."
        ],
        "anger": [
            "Je comprends votre mécontentement et je vous prie de nous excuser pour ce désagrément. Un responsable reprend votre demande en priorité."
        ],
        "legal_threat": [
            "Je comprends que la situation soit contrariante. Je transmets votre dossier à notre service réclamations, qui l’examinera en priorité et reviendra vers vous rapidement."
        ],
        "fraud": [
            "Pour votre sécurité, je transmets votre demande à notre équipe paiements, qui va vérifier la situation avec vous."
        ],
        "gdpr": [
            "Votre demande concernant vos données personnelles est transmise à notre équipe dédiée, qui vous répondra dans le délai légal d’un mois."
        ],
        "safety": [
            "Pour votre sécurité, débranchez le produit et ne l’utilisez plus. Je transmets immédiatement votre signalement à notre équipe sécurité produit, qui vous recontacte en priorité."
        ],
        "prompt_injection": [
            "Je ne peux pas donner suite à cette demande. Je reste à votre disposition pour toute question sur vos commandes ou nos services."
        ],
        "refund_over_limit": [
            "Votre demande de remboursement{amount} doit être validée par un responsable : je la lui transmets dès maintenant, et nous revenons vers vous rapidement."
        ],
        "repeated_contact": [
            "Je suis désolé que vous ayez dû nous relancer. Je transmets votre demande en priorité à un responsable."
        ],
        "repeated_contact_history": [
            "Je suis désolé que vous ayez dû nous relancer. Je transmets votre demande en priorité à un responsable."
        ],
        "lost_parcel": [
            "Un conseiller va ouvrir une enquête auprès du transporteur et revenir vers vous rapidement."
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
        "unknown": [
            "Je ne retrouve pas de commande {number}. Tu peux vérifier le numéro indiqué dans l’e-mail de confirmation ?"
        ],
        "human_request": [
            "Je te mets en relation avec un conseiller, qui prend le relais ici dans quelques instants."
        ],
        "anger": [
            "Je comprends ton mécontentement et je suis désolé pour ce désagrément. Un responsable reprend ta demande en priorité."
        ],
        "legal_threat": [
            "Je comprends que la situation soit contrariante. Je transmets ton dossier à notre service réclamations, qui l’examinera en priorité et reviendra vers toi rapidement."
        ],
        "fraud": [
            "Pour ta sécurité, je transmets ta demande à notre équipe paiements, qui va vérifier la situation avec toi."
        ],
        "gdpr": [
            "Ta demande concernant tes données personnelles est transmise à notre équipe dédiée, qui te répondra dans le délai légal d’un mois."
        ],
        "safety": [
            "Pour ta sécurité, débranche le produit et ne l’utilise plus. Je transmets immédiatement ton signalement à notre équipe sécurité produit, qui te recontacte en priorité."
        ],
        "prompt_injection": [
            "Je ne peux pas donner suite à cette demande. Je reste dispo pour toute question sur tes commandes ou nos services."
        ],
        "refund_over_limit": [
            "Ta demande de remboursement{amount} doit être validée par un responsable : je la lui transmets tout de suite, et on revient vers toi rapidement."
        ],
        "repeated_contact": [
            "Désolé que tu aies dû nous relancer. Je transmets ta demande en priorité à un responsable."
        ],
        "repeated_contact_history": [
            "Désolé que tu aies dû nous relancer. Je transmets ta demande en priorité à un responsable."
        ],
        "lost_parcel": [
            "Un conseiller va ouvrir une enquête auprès du transporteur et revenir vers toi rapidement."
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
        "unknown": [
            "I cannot find an order {number}. Could you check the number given in your confirmation e-mail?"
        ],
        "human_request": [
            "I am passing you to one of our advisers, who will take over this conversation in a moment."
        ],
        "anger": [
            "I understand your frustration and I apologise for the inconvenience. A team lead is taking over your request as a priority."
        ],
        "legal_threat": [
            "I understand this situation is upsetting. I am passing your case to our complaints team, who will review it as a priority and get back to you shortly."
        ],
        "fraud": [
            "For your security, I am passing your request to our payments team, who will look into it with you."
        ],
        "gdpr": [
            "Your request about your personal data has been passed to our dedicated team, who will answer within the legal time limit of one month."
        ],
        "safety": [
            "For your safety, please unplug the product and stop using it. I am reporting this to our product-safety team straight away, and they will contact you as a priority."
        ],
        "prompt_injection": [
            "I am not able to act on this request. I remain available for any question about your orders or our services."
        ],
        "refund_over_limit": [
            "Your refund request{amount} needs a team lead's approval: I am passing it on now, and we will get back to you shortly."
        ],
        "repeated_contact": [
            "I am sorry you had to contact us again. I am passing your request to a team lead as a priority."
        ],
        "repeated_contact_history": [
            "I am sorry you had to contact us again. I am passing your request to a team lead as a priority."
        ],
        "lost_parcel": [
            "An adviser will open an investigation with the carrier and get back to you shortly."
        ],
    },
}
PHRASES[("en", False)] = {
    **PHRASES[("en", True)],
    "hello": ["Hi {name}!", "Hi {name}, thanks for your message!"],
    "hello_anon": ["Hi!", "Hi, thanks for your message!"],
    "bye": ["Let me know if there's anything else!", "Happy to help with anything else!"],
}
