"""The label guide in French, as the pages show it (the definitions of data/LABELS.md).

The label values stay as in the guide (``tone-deaf``, ``preventive``, ``supportive``,
``promotional``): they are the words people see in the CLI, the CSV and the API too.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["LABEL_GUIDE", "REASONS", "guide_html", "page_texts"]

# In the order of the guide: the first rule that matches decides (tone-deaf wins).
LABEL_GUIDE: tuple[dict[str, Any], ...] = (
    {
        "label": "tone-deaf",
        "colour": "#c62828",
        "short": "à ne pas publier tel quel : blesserait ou choquerait les personnes qui vivent la crise",
        "rules": [
            ("exploite la crise pour vendre : mots de la crise comme accroche marketing (« code CONFINEMENT20 », « "
             "soldes spécial canicule »), peur utilisée pour vendre, jeu sur la rareté de produits essentiels ;"),
            ("encourage ce que la crise interdit ou rend dangereux : rassemblements ou voyages pendant un "
             "confinement, sortir pendant une alerte inondation ou tempête, barbecue malgré l'interdiction ;"),
            "se moque ou minimise : victimes, soignants, morts ou la crise elle-même ;",
            ("affiche ses privilèges comme enviables pendant que d'autres souffrent (« confinée dans ma villa avec "
             "piscine ») ;"),
            ("fausses allégations de santé ou de sécurité liées à la crise (« notre huile essentielle protège du "
             "virus »)."),
        ],
        "examples": [
            "Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS",
            "Merci aux soignants ❤️ Pour les remercier : -50 % sur tout le site",
            "Apéro géant sur la plage ce soir malgré l'alerte orange, venez nombreux 🍻",
        ],
    },
    {
        "label": "preventive",
        "colour": "#1565c0",
        "short": "protège : conseils de santé ou de sécurité, consignes officielles relayées, mise en garde",
        "rules": [
            ("dit quoi faire ou éviter (« restez chez vous », « lavez-vous les mains », « ne traversez pas une route "
             "inondée », « vérifiez vos sources ») ;"),
            "une marque qui donne ces conseils avec au plus une signature discrète reste preventive.",
        ],
        "examples": [
            "Restez chez vous ! Prenez soin de vous et de vos proches ❤️ — L'équipe Maison X",
            "Attention aux fausses cagnottes : ne donnez qu'aux associations officielles",
        ],
    },
    {
        "label": "supportive",
        "colour": "#2e7d32",
        "short": "exprime la solidarité : remerciements, encouragements, empathie, aide concrète sans vente",
        "rules": [
            "remercie ou encourage (soignants, pompiers, caissiers, victimes), exprime de l'empathie ;",
            ("aide concrète sans vente : dons, services gratuits, bénévolat, cagnotte relayée, soutien aux petits "
             "commerces ;"),
            "« 100 % des ventes reversées aux soignants » est supportive : le don est le but.",
        ],
        "examples": [
            "Un immense merci à tous les soignants ❤️",
            "Canicule : on ouvre notre salle climatisée gratuitement aux personnes âgées",
        ],
    },
    {
        "label": "promotional",
        "colour": "#ef6c00",
        "short": "vend ou fait la publicité d'un produit, service, événement ou contenu, adapté à la crise ou non",
        "rules": [
            ("lancements, remises, codes promo, jeux-concours, « lien en bio », liens affiliés, collaborations, "
             "nouvelle vidéo ;"),
            ("une promotion adaptée avec respect à la crise (e-shop ouvert, livraison sans contact, sans jeu de mots "
             "sur la crise, sans pression) reste promotional ;"),
            "une vente sans mot de la crise ni comportement risqué n'est pas tone-deaf : elle est promotional.",
        ],
        "examples": [
            "Nos boutiques sont fermées, l'e-shop reste ouvert, livraisons sans contact",
            "Nouveau drop ce soir 20h 🔥 stocks limités",
        ],
    },
)

#: Why a draft needs review, as tonecheck's review_reasons name it, explained in French.
REASONS: dict[str, str] = {
    "unsure": "incertain : aucune étiquette ne se détache nettement",
    "close-call": "serré : les deux étiquettes les plus probables sont proches",
    "out-of-scope": ("hors champ : ressemble à un post hors des quatre classes (actualité, discussion, question, "
                     "blague…)"),
    "not-french": "pas en français : le modèle ne lit que le français",
    "no-words": "aucun mot reconnu par le modèle",
    "error": "non évalué : le texte est vide, trop long ou illisible",
}


def guide_html() -> str:
    """The label guide as an HTML fragment (every string escaped)."""
    e = html.escape
    parts = [
        "<p>Chaque brouillon est jugé comme s'il était publié <em>pendant</em> la crise qu'il nomme "
        "(ou pendant une crise en cours). Quand plusieurs classes conviennent, la première règle "
        "qui s'applique décide : <strong>tone-deaf</strong> l'emporte sur les autres.</p>"
    ]
    for item in LABEL_GUIDE:
        parts.append(
            f'<section class="guide-label"><h3><span class="badge badge-{e(item["label"])}">{e(item["label"])}</span> '
            f"{e(item['short'])}</h3><ul>"
            + "".join(f"<li>{e(rule)}</li>" for rule in item["rules"])
            + "</ul><p class=\"guide-examples\">Exemples : "
            + " ; ".join(f"«\u00a0{e(x)}\u00a0»" for x in item["examples"])
            + "</p></section>"
        )
    parts.append(
        "<h3>À revoir</h3><p>tonecheck donne toujours l'une des quatre étiquettes ; le signal "
        "<strong>à revoir</strong> dit quand il ne faut pas s'y fier sans relire :</p><ul>"
        + "".join(f"<li><code>{e(k)}</code> — {e(v)}</li>" for k, v in REASONS.items() if k != "error")
        + "</ul><p>Les mots surlignés sont ceux qui ont poussé vers l'étiquette retenue ; survolez-les "
        "pour voir leur poids. C'est un second regard, pas un verdict.</p>"
    )
    return "".join(parts)


def page_texts() -> dict[str, Any]:
    """What the pages' JavaScript needs of the guide: label order, colours, descriptions, reasons."""
    return {
        "labels": [item["label"] for item in LABEL_GUIDE],
        "colours": {item["label"]: item["colour"] for item in LABEL_GUIDE},
        "short": {item["label"]: item["short"] for item in LABEL_GUIDE},
        "reasons": REASONS,
    }
