"""Writes polar_validation.json: what Polar answers to create bodies that its
schema refuses, computed by Pydantic 2 itself.

It restates Polar's create schema as polarsource/polar has it at c6c3645e
(server/polar/subscription/schemas.py, kit/metadata.py, and kit/schemas.py's
Schema, whose one field validator refuses a NUL character in any string a
field holds, reporting the whole field) and the way FastAPI reads a JSON body
and reports a RequestValidationError, then records the 422 (or 400) body for
each case. The Go test TestPolarValidationMatchesPydantic replays the cases
against the fake and compares the bytes.

Regenerate with:  python3 gen_polar_validation.py > polar_validation.json
(needs pydantic 2; written against 2.13).
"""

import email.message
import json
from collections.abc import Collection, Mapping
from typing import Annotated, Any

from pydantic import (UUID4, BaseModel, ConfigDict, Field, StringConstraints,
                      TypeAdapter, ValidationError, field_validator)


class Schema(BaseModel):
    """kit/schemas.py: every field of every schema is checked for NUL."""

    model_config = ConfigDict(from_attributes=True)

    @field_validator("*", mode="after")
    @classmethod
    def _reject_nul_characters(cls, value: Any) -> Any:
        pending = [value]
        visited: set[int] = set()
        while pending:
            current = pending.pop()
            if isinstance(current, str):
                if "\x00" in current:
                    raise ValueError("This value contains invalid characters")
            elif isinstance(current, BaseModel):
                continue
            elif isinstance(current, Mapping):
                if id(current) in visited:
                    continue
                visited.add(id(current))
                pending.extend(current.keys())
                pending.extend(current.values())
            elif isinstance(current, Collection) and not isinstance(current, (bytes, bytearray)):
                if id(current) in visited:
                    continue
                visited.add(id(current))
                pending.extend(current)
        return value


MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MetadataString = Annotated[str, StringConstraints(min_length=1, max_length=500)]
MetadataValue = MetadataString | int | float | bool
MetadataField = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=50)]


class MetadataInputMixin(BaseModel):
    metadata: MetadataField = Field(default_factory=dict)


class SubscriptionCreateBase(MetadataInputMixin, Schema):
    product_id: UUID4


class SubscriptionCreateCustomer(SubscriptionCreateBase):
    customer_id: UUID4


class SubscriptionCreateExternalCustomer(SubscriptionCreateBase):
    external_customer_id: str


ADAPTER = TypeAdapter(SubscriptionCreateCustomer | SubscriptionCreateExternalCustomer)


def encode(v):
    """FastAPI's jsonable_encoder, for what appears in validation errors."""
    if isinstance(v, Exception):
        return {}
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    return v


def answer(body: bytes, content_type):
    """What FastAPI (with Polar's error handler) answers for a create body."""
    value = None
    if body:
        is_json = True
        if content_type:
            msg = email.message.Message()
            msg["content-type"] = content_type
            is_json = msg.get_content_maintype() == "application" and (
                msg.get_content_subtype() == "json" or msg.get_content_subtype().endswith("+json"))
        if is_json:
            try:
                value = json.loads(body)
            except json.JSONDecodeError as e:
                return 422, {"error": "RequestValidationError", "detail": [
                    {"type": "json_invalid", "loc": ["body", e.pos], "msg": "JSON decode error",
                     "input": {}, "ctx": {"error": e.msg}}]}
            except Exception:
                return 400, {"detail": "There was an error parsing the body"}
        else:
            value = body
    if value is None:
        return 422, {"error": "RequestValidationError", "detail": [
            {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]}
    try:
        ADAPTER.validate_python(value)
    except ValidationError as e:
        detail = []
        for err in e.errors(include_url=False):
            err = dict(err)
            err["loc"] = ["body", *err["loc"]]
            detail.append(encode(err))
        return 422, {"error": "RequestValidationError", "detail": detail}
    return 201, None


P = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
C = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
V1 = "c232ab00-9414-11ec-b3c8-9f6bdeced846"


def body(**kw):
    return json.dumps(kw, ensure_ascii=False)


CASES = [
    ("v1 product_id", body(product_id=V1, customer_id=C)),
    ("v1 customer_id", body(product_id=P, customer_id=V1)),
    ("nil uuid", body(product_id="00000000-0000-0000-0000-000000000000", customer_id=C)),
    ("variant NCS", body(product_id="d8dd2de1-21b7-4a41-0bc3-ce909c0cfe23", customer_id=C)),
    ("variant Microsoft", body(product_id="d8dd2de1-21b7-4a41-cbc3-ce909c0cfe23", customer_id=C)),
    ("uppercase urn prefix", body(product_id="URN:UUID:" + P, external_customer_id="e")),
    ("not a uuid", body(product_id="xyz", customer_id=C)),
    ("empty uuid", body(product_id="", customer_id=C)),
    ("short group", body(product_id=P[:-1], customer_id=C)),
    ("long last group", body(product_id=P + "a", customer_id=C)),
    ("bad character", body(product_id="d8dd2de1x21b7-4a41-8bc3-ce909c0cfe23", customer_id=C)),
    ("non-ascii character", body(product_id="é" + P[1:], customer_id=C)),
    ("four groups", body(product_id="d8dd2de1-21b7-4a41-8bc3ce909c0cfe23", customer_id=C)),
    ("six groups", body(product_id="d8dd2de1-21b7-4a41-8bc3-ce909c0c-fe23", customer_id=C)),
    ("unclosed brace", body(product_id="{" + P, customer_id=C)),
    ("urn without hyphens", body(product_id="urn:uuid:" + P.replace("-", ""), customer_id=C)),
    ("braced without hyphens", body(product_id="{" + P.replace("-", "") + "}", customer_id=C)),
    ("simple with bad digit", body(product_id=P.replace("-", "")[:-1] + "g", customer_id=C)),
    ("uuid as number", body(product_id=5, external_customer_id="e")),
    ("uuid null", body(product_id=None, customer_id=C)),
    ("external id as number", body(product_id=P, external_customer_id=5)),
    ("external id null", body(product_id=P, external_customer_id=None)),
    ("no customer", body(product_id=P)),
    ("empty object", "{}"),
    ("array", "[]"),
    ("string", '"str"'),
    ("json null", "null"),
    ("41-character key", body(product_id=P, customer_id=C, metadata={"k" * 41: "v"})),
    ("empty key", body(product_id=P, customer_id=C, metadata={"": "v"})),
    ("501-character value", body(product_id=P, customer_id=C, metadata={"k": "v" * 501})),
    ("empty value", body(product_id=P, customer_id=C, metadata={"k": ""})),
    ("null value", body(product_id=P, customer_id=C, metadata={"k": None})),
    ("NUL in value", body(product_id=P, external_customer_id="e", metadata={"k": "a\x00b"})),
    ("NUL in value, customer shape", body(product_id=P, customer_id=C, metadata={"ok": 1, "k": "\x00"})),
    ("NUL in key", body(product_id=P, customer_id=C, metadata={"a\x00": "v"})),
    ("NUL in external id", body(product_id=P, external_customer_id="usr\x001")),
    ("NUL and a bad value", body(product_id=P, customer_id=C, metadata={"k": "a\x00", "n": None})),
    ("NUL in a 501-character value", body(product_id=P, customer_id=C, metadata={"k": "\x00" * 501})),
    ("NUL in metadata and a bad uuid", body(product_id=V1, customer_id=C, metadata={"k": "\x00"})),
    ("object value", body(product_id=P, customer_id=C, metadata={"k": {"a": 1}})),
    ("array value", body(product_id=P, customer_id=C, metadata={"k": [1]})),
    ("51 pairs", body(product_id=P, customer_id=C, metadata={f"k{i}": i for i in range(51)})),
    ("51 pairs and a bad uuid", body(product_id=V1, customer_id=C, metadata={f"k{i}": True for i in range(51)})),
    ("52 pairs with a null", body(product_id=P, customer_id=C, metadata={**{f"k{i}": "v" for i in range(51)}, "bad": None})),
    ("metadata null", body(product_id=P, customer_id=C, metadata=None)),
    ("metadata string", body(product_id=P, customer_id=C, metadata="x")),
    ("bad key and bad value", body(product_id=P, customer_id=C, metadata={"": None})),
    ("many problems", body(product_id="nope", customer_id=V1, metadata={"ok": 1, "k" * 41: "", "n": None})),
    ("non-ascii key too long", body(product_id=P, customer_id=C, metadata={"é" * 41: 1.5})),
    ("html characters", body(product_id="<&>", customer_id=C)),
    ("floats echoed", body(product_id=5, customer_id=C, metadata={"a": 1.0, "b": 1e16, "c": 1.5e-5, "d": None})),
    ("json: truncated", '{"product_id": '),
    ("json: missing colon", '{"product_id" 1}'),
    ("json: extra data", '{} {}'),
    ("json: bad escape", '{"a": "\\q"}'),
    ("json: single quotes", "{'a': 1}"),
    ("json: unterminated string", '{"a": "b'),
    ("json: whitespace only", "   "),
    ("json: non-ascii before error", '{"é": x}'),
    ("invalid utf-8", b'{"product_id": "\xff"}'),
    ("text/plain body", (body(product_id=P, customer_id=C), "text/plain")),
    ("no content type", (body(product_id=V1, customer_id=C), None)),
    ("vendor json content type", (body(product_id=V1, customer_id=C), "application/vnd.api+json; charset=utf-8")),
]


def main():
    out = []
    for name, spec in CASES:
        content_type = "application/json"
        if isinstance(spec, tuple):
            spec, content_type = spec
        raw = spec if isinstance(spec, bytes) else spec.encode()
        status, want = answer(raw, content_type)
        assert status != 201, name
        out.append({
            "name": name,
            "content_type": content_type,
            "body": raw.decode("latin-1") if isinstance(spec, bytes) else spec,
            "body_is_latin1": isinstance(spec, bytes),
            "status": status,
            "want": json.dumps(want, ensure_ascii=False, separators=(",", ":")),
        })
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
