"""Writes polar_query_validation.json: what Polar answers to look-up requests
whose query or path its parameters refuse, computed by Pydantic 2 itself.

It restates the parameters of Polar's GET /v1/subscriptions/ and
GET /v1/subscriptions/{id} as polarsource/polar has them at c6c3645e
(server/polar/subscription/endpoints.py and sorting.py, kit/pagination.py,
kit/sorting.py, kit/schemas.py's MultipleQueryFilter; the date filters
canceled_at_* and started_* are left out, as the fake does not check them) and the way FastAPI reads them: Starlette parses the query
with parse_qsl(keep_blank_values=True); a sequence parameter gets every value
of its key, a scalar one the last; the endpoint's dependencies (pagination,
then sorting) are validated before its own query parameters, in declaration
order; each error's loc is prefixed with ("query", name) or ("path", name).
The Go test TestPolarLookupValidationMatchesPydantic replays the cases
against the fake and compares the bytes.

Regenerate with:  python3 gen_polar_query_validation.py > polar_query_validation.json
(needs pydantic 2; written against 2.13, Python 3.11).
"""

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Generic, TypeVar, get_args
from urllib.parse import parse_qsl

from pydantic import UUID4, Field, GetCoreSchemaHandler, TypeAdapter, ValidationError
from pydantic_core import core_schema

Q = TypeVar("Q")


class MultipleQueryFilter(Sequence[Q], Generic[Q]):
    """kit/schemas.py: a scalar or a sequence, always a sequence at run time."""

    def __init__(self, v):
        self.v = v

    def __getitem__(self, s):
        return self.v[s]

    def __len__(self):
        return len(self.v)

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler: GetCoreSchemaHandler):
        generic_type = get_args(source)[0]
        sequence_schema = handler.generate_schema(Sequence[generic_type])
        scalar_schema = handler.generate_schema(generic_type)
        union_schema = core_schema.union_schema([scalar_schema, sequence_schema])
        return core_schema.no_info_after_validator_function(cls._scalar_to_sequence, handler(union_schema))

    @classmethod
    def _scalar_to_sequence(cls, v):
        if isinstance(v, Sequence) and not isinstance(v, str):
            return v
        return [v]


class SubscriptionStatus(StrEnum):
    incomplete = "incomplete"
    incomplete_expired = "incomplete_expired"
    trialing = "trialing"
    active = "active"
    past_due = "past_due"
    canceled = "canceled"
    unpaid = "unpaid"
    paused = "paused"


class CustomerCancellationReason(StrEnum):
    customer_service = "customer_service"
    low_quality = "low_quality"
    missing_features = "missing_features"
    switched_service = "switched_service"
    too_complex = "too_complex"
    too_expensive = "too_expensive"
    unused = "unused"
    other = "other"


SORT_PROPERTIES = ["customer", "status", "started_at", "current_period_end", "ended_at", "ends_at", "amount",
                   "product", "discount"]
SortFull = StrEnum("SubscriptionSortProperty", [v for p in SORT_PROPERTIES for v in (p, "-" + p)])

ID = Annotated[UUID4, Field(description="The ID.")]

# (name, annotation, is a sequence parameter), in the order FastAPI checks them.
PARAMS = [
    ("page", Annotated[int, Field(1, gt=0)], False),
    ("limit", Annotated[int, Field(10, gt=0)], False),
    ("sorting", Annotated[list[SortFull] | None, Field(["-started_at"])], True),
    ("organization_id", Annotated[MultipleQueryFilter[ID] | None, Field(None)], True),
    ("product_id", Annotated[MultipleQueryFilter[ID] | None, Field(None)], True),
    ("customer_id", Annotated[MultipleQueryFilter[ID] | None, Field(None)], True),
    ("external_customer_id", Annotated[MultipleQueryFilter[str] | None, Field(None)], True),
    ("discount_id", Annotated[MultipleQueryFilter[ID] | None, Field(None)], True),
    ("active", Annotated[bool | None, Field(None)], False),
    ("status", Annotated[MultipleQueryFilter[SubscriptionStatus] | None, Field(None)], True),
    ("cancel_at_period_end", Annotated[bool | None, Field(None)], False),
    ("customer_cancellation_reason", Annotated[MultipleQueryFilter[CustomerCancellationReason] | None, Field(None)],
     True),
]


def encode(v):
    """FastAPI's jsonable_encoder, for what appears in validation errors."""
    if isinstance(v, Exception):
        return {}
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    return v


def errors_of(adapter, value, prefix):
    try:
        adapter.validate_python(value, from_attributes=True)
    except ValidationError as e:
        out = []
        for err in e.errors(include_url=False):
            err = dict(err)
            err["loc"] = [*prefix, *err["loc"]]
            out.append(encode(err))
        return out
    return []


def list_answer(qs):
    items = parse_qsl(qs, keep_blank_values=True)
    detail = []
    for name, ann, seq in PARAMS:
        values = [v for k, v in items if k == name]
        if not values:
            continue
        value = values if seq else values[-1]
        detail += errors_of(TypeAdapter(ann), value, ["query", name])
    return detail


def get_answer(raw_id):
    return errors_of(TypeAdapter(UUID4), raw_id, ["path", "id"])


P = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
C = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
V1 = "c232ab00-9414-11ec-b3c8-9f6bdeced846"

LIST_CASES = [
    ("customer_id not a uuid", "customer_id=abc"),
    ("customer_id v1", "customer_id=" + V1),
    ("product_id: one good, one bad", f"product_id={P}&product_id=x&product_id={V1}"),
    ("organization_id empty", "organization_id="),
    ("discount_id bad", "discount_id=nope"),
    ("status unknown", "status=active&status=ended"),
    ("status empty", "status="),
    ("page zero", "page=0"),
    ("page negative", "page=-3"),
    ("page not a number", "page=two"),
    ("page empty", "page="),
    ("page fraction", "page=1.5"),
    ("page repeated, last bad", "page=1&page=x"),
    ("limit zero", "limit=0"),
    ("limit not a number", "limit=ten"),
    ("limit exponent", "limit=1e2"),
    ("sorting created_at", "sorting=created_at"),
    ("sorting several bad", "sorting=-created_at&sorting=started_at&sorting=STATUS"),
    ("sorting empty", "sorting="),
    ("sorting -created_at only", "sorting=-created_at"),
    ("status one unknown", "status=ended"),
    ("status wrong case", "status=Active"),
    ("active not a boolean", "active=maybe"),
    ("active empty", "active="),
    ("cancel_at_period_end not a boolean", "cancel_at_period_end=2"),
    ("cancellation reason unknown", "customer_cancellation_reason=too_expensive&customer_cancellation_reason=bored"),
    ("filters after status in order", "customer_cancellation_reason=x&cancel_at_period_end=x&status=x&active=x"),
    ("many problems in order", f"status=x&customer_id=1&sorting=y&limit=0&page=z&product_id={P}&organization_id=2"),
    ("percent-encoded key", "customer%5Fid=abc"),
    ("plus in value", "customer_id=a+b"),
]

GET_CASES = [
    ("id not a uuid", "abc"),
    ("id v1", V1),
    ("id too long", P + "0"),
    ("id urn uppercase", "URN:UUID:" + P),
]

VALID = [
    f"customer_id={C}&product_id={P}&metadata[k]=v&limit=10",
    "page=2&limit=500", "page= 3 ", "limit=1_0", "page=2.0", "sorting=-status&sorting=amount",
    "status=paused", f"customer_id={{{C}}}", "external_customer_id=", "metadata[]=x&foo=bar",
    "sorting=ended_at&sorting=-ends_at", "active=true", "active=0", "active=YES", "active=off",
    "cancel_at_period_end=f", "customer_cancellation_reason=other",
]


def main():
    for qs in VALID:
        assert not list_answer(qs), qs
    out = []
    for name, qs in LIST_CASES:
        detail = list_answer(qs)
        assert detail, name
        out.append({"name": name, "path": "/v1/subscriptions/", "query": qs, "status": 422,
                    "want": json.dumps({"error": "RequestValidationError", "detail": detail},
                                       ensure_ascii=False, separators=(",", ":"))})
    for name, raw_id in GET_CASES:
        detail = get_answer(raw_id)
        assert detail, name
        out.append({"name": name, "path": "/v1/subscriptions/" + raw_id, "query": "", "status": 422,
                    "want": json.dumps({"error": "RequestValidationError", "detail": detail},
                                       ensure_ascii=False, separators=(",", ":"))})
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
