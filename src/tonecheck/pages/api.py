"""The contract of ``tonecheck serve``'s JSON API: its limits, the request and response models
(FastAPI builds the OpenAPI description from them), the problem responses, JSON that survives
any ``str``, and a validation error as one sentence naming the field."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from tonecheck import MAX_TEXT_LENGTH

__all__ = [
    "MAX_BATCH_ITEMS", "MAX_BODY_BYTES", "MAX_BATCH_BODY_BYTES", "AssessRequest", "AssessBatchRequest",
    "AssessResponse", "AssessBatchResponse", "Health", "ModelInfo", "Problem", "PROBLEMS", "SafeJSONResponse",
    "explain",
]

#: Most texts in one ``POST /v1/assess-batch``.
MAX_BATCH_ITEMS = 1_000
#: Largest body of ``POST /v1/assess``: a MAX_TEXT_LENGTH text fits even with every
#: character escaped as a JSON surrogate pair (12 bytes each: 600,000 bytes).
MAX_BODY_BYTES = 1024 * 1024
#: Largest body of ``POST /v1/assess-batch``: about 4 million characters, a few seconds of work
#: (more than a thousand typical captions: send bigger jobs through ``tonecheck score``).
MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024
_JSON_TYPES = {
    dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null",
}

LabelName = Literal["supportive", "promotional", "tone-deaf", "preventive"]


class AssessRequest(BaseModel):
    text: StrictStr = Field(
        description=f"The draft, 1 to {MAX_TEXT_LENGTH:,} characters, not only white space.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_TEXT_LENGTH},
        examples=["Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS"],
    )


class AssessBatchRequest(BaseModel):
    texts: list[StrictStr] = Field(
        description=f"1 to {MAX_BATCH_ITEMS:,} drafts, each as in /v1/assess.",
        json_schema_extra={"minItems": 1, "maxItems": MAX_BATCH_ITEMS},
        examples=[["Merci aux soignants ❤️", "Nouveau drop ce soir 🔥 lien en bio"]],
    )


class EvidenceOut(BaseModel):
    text: str = Field(description="The word as it is in the text.")
    start: int = Field(description="Offset of its first character in the text (code points, as Python counts).")
    end: int = Field(description="Offset just past its last character.")
    weight: float = Field(description="How much it pushed toward the label (positive).")


class AssessResponse(BaseModel):
    label: LabelName
    scores: dict[LabelName, float] = Field(description="Calibrated probability of each label; they sum to 1.")
    needs_review: bool = Field(description="True when a person should look before publishing.")
    review_reasons: list[str] = Field(description="Why: unsure, close-call, out-of-scope, not-french, no-words.")
    in_scope: float = Field(description="Probability that the post is one of the four kinds at all.")
    evidence: list[EvidenceOut] = Field(description="Words that pushed toward the label, strongest first.")


class AssessBatchResponse(BaseModel):
    results: list[AssessResponse] = Field(description="One result per text, in order.")


class Health(BaseModel):
    status: Literal["ok"]
    tonecheck: str


class ModelInfo(BaseModel):
    model_config = ConfigDict(protected_namespaces=())
    tonecheck: str = Field(description="The version of tonecheck serving.")
    versions: dict[str, str] = Field(description="Library versions the model was built with.")
    labels: list[str]
    review_threshold: float | None = Field(description="Below this top probability a draft is 'unsure'.")
    scope_threshold: float | None = Field(description="Below this in-scope probability a draft is 'out-of-scope'.")
    trained_on_posts: int | None
    max_text_length: int
    max_batch_items: int
    max_body_bytes: int
    max_batch_body_bytes: int


class Problem(BaseModel):
    detail: str = Field(description="What is wrong with the request, in one sentence.")


class SafeJSONResponse(JSONResponse):
    """JSON that survives lone surrogates (the API accepts any str): escaped if need be."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")



def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out


def explain(error: dict[str, Any]) -> str:
    """One validation error of FastAPI/pydantic as a sentence naming the field and the problem."""
    kind, loc, given = error.get("type", ""), tuple(error.get("loc", ())), error.get("input")
    where = _where(loc)
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return f"the body is not valid JSON: {reason} (at character {loc[-1] if len(loc) > 1 else 0})"
    if kind == "missing" and not where:
        return 'the body is empty: send a JSON object such as {"text": "…"}'
    if kind == "missing":
        return f"the body has no {where!r} field"
    if not where:
        return f'the body must be a JSON object such as {{"text": "…"}}, not a JSON {_json_type(given)}'
    if kind == "string_type":
        return f"{where} must be a string, not a JSON {_json_type(given)}"
    if kind == "list_type":
        return f"{where} must be a list of strings, not a JSON {_json_type(given)}"
    return f"{where}: {error.get('msg', 'invalid value')}"


PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": what}
    for code, what in [
        (400, "The body is not valid JSON."),
        (413, "The body is larger than the limit."),
        (415, "The body is not sent as application/json."),
        (422, "A field is missing, of the wrong type, empty, too long, or there are too many texts."),
    ]
}
