package wire

import (
	"reflect"
	"testing"
)

func TestDecodeError(t *testing.T) {
	cases := []struct {
		name        string
		body        string
		errorIsCode bool
		want        ErrorInfo
	}{
		{"empty", "", true, ErrorInfo{}},
		{"html", "<html>502</html>", false, ErrorInfo{}},
		{"not an object", `"oops"`, false, ErrorInfo{}},
		{"truncated", `{"message":"x`, false, ErrorInfo{}},
		{"polar named", `{"error":"NotPermitted","detail":"no"}`, true, ErrorInfo{Code: "NotPermitted", Message: "no"}},
		{"polar oauth", `{"error":"invalid_token","error_description":"expired"}`, true, ErrorInfo{Code: "invalid_token", Message: "expired"}},
		{"polar detail only", `{"detail":"Not Found"}`, true, ErrorInfo{Message: "Not Found"}},
		{"polar 422", `{"error":"RequestValidationError","detail":[{"loc":["body","metadata","k"],"msg":"bad","type":"t"},{"loc":["body",3],"msg":"m","type":"u"},"junk",{"loc":"x","msg":"y"}]}`, true,
			ErrorInfo{Code: "RequestValidationError", Message: "metadata.k: bad; [3]: m",
				Fields: []FieldProblem{{Field: "metadata.k", Message: "bad", Code: "t"}, {Field: "[3]", Message: "m", Code: "u"}}}},
		{"loc of one element keeps it", `{"detail":[{"loc":["body"],"msg":"Field required","type":"missing"}]}`, true,
			ErrorInfo{Message: "body: Field required", Fields: []FieldProblem{{Field: "body", Message: "Field required", Code: "missing"}}}},
		{"polar union: the member that was meant", `{"error":"RequestValidationError","detail":[
			{"type":"uuid_version","loc":["body","SubscriptionCreateCustomer","product_id"],"msg":"UUID version 4 expected"},
			{"type":"uuid_version","loc":["body","SubscriptionCreateExternalCustomer","product_id"],"msg":"UUID version 4 expected"},
			{"type":"missing","loc":["body","SubscriptionCreateExternalCustomer","external_customer_id"],"msg":"Field required"}]}`, true,
			ErrorInfo{Code: "RequestValidationError", Message: "product_id: UUID version 4 expected",
				Fields: []FieldProblem{{Field: "product_id", Message: "UUID version 4 expected", Code: "uuid_version"}}}},
		{"polar union: metadata validators dropped, duplicates merged", `{"detail":[
			{"type":"string_type","loc":["body","SubscriptionCreateCustomer","metadata","Plan","str"],"msg":"Input should be a valid string"},
			{"type":"int_type","loc":["body","SubscriptionCreateCustomer","metadata","Plan","int"],"msg":"Input should be a valid integer"},
			{"type":"value_error","loc":["body","SubscriptionCreateCustomer","metadata","int","[key]"],"msg":"NUL"},
			{"type":"value_error","loc":["body","SubscriptionCreateExternalCustomer","metadata","int","[key]"],"msg":"NUL"}]}`, true,
			ErrorInfo{Message: "metadata.Plan: Input should be a valid string; metadata.Plan: Input should be a valid integer; metadata.int: NUL",
				Fields: []FieldProblem{{Field: "metadata.Plan", Message: "Input should be a valid string", Code: "string_type"},
					{Field: "metadata.Plan", Message: "Input should be a valid integer", Code: "int_type"},
					{Field: "metadata.int", Message: "NUL", Code: "value_error"}}}},
		{"polar query union labels", `{"error":"RequestValidationError","detail":[
			{"type":"uuid_parsing","loc":["query","customer_id","uuid"],"msg":"Input should be a valid UUID"},
			{"type":"uuid_parsing","loc":["query","customer_id","json-or-python[json=list[uuid],python=chain[is-instance[Sequence],function-wrap[sequence_validator()]]]",0],"msg":"Input should be a valid UUID"}]}`, true,
			ErrorInfo{Code: "RequestValidationError", Message: "customer_id: Input should be a valid UUID; customer_id[0]: Input should be a valid UUID",
				Fields: []FieldProblem{{Field: "customer_id", Message: "Input should be a valid UUID", Code: "uuid_parsing"},
					{Field: "customer_id[0]", Message: "Input should be a valid UUID", Code: "uuid_parsing"}}}},
		{"chargeflow", `{"message":"bad","requestId":"r1"}`, false, ErrorInfo{Message: "bad", RequestID: "r1"}},
		{"snake request id", `{"message":"bad","request_id":"r2"}`, false, ErrorInfo{Message: "bad", RequestID: "r2"}},
		{"stripe", `{"error":{"message":"No such coupon","type":"invalid_request_error"}}`, false, ErrorInfo{Code: "invalid_request_error", Message: "No such coupon"}},
		{"error string is a message elsewhere", `{"error":"boom"}`, false, ErrorInfo{Message: "boom"}},
		{"message wins over error string", `{"error":"boom","message":"better"}`, false, ErrorInfo{Message: "better"}},
		{"code field", `{"message":"m","code":"E42"}`, false, ErrorInfo{Code: "E42", Message: "m"}},
		{"wrong types skipped", `{"message":1,"error":true,"detail":{},"requestId":5}`, false, ErrorInfo{}},
	}
	for _, tc := range cases {
		got := DecodeError([]byte(tc.body), tc.errorIsCode)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{`{"error":"x","detail":[{"loc":["body",1],"msg":"m"}]}`, `{"error":{"message":"m"}}`,
		`{"message":"m","requestId":"r"}`, ``, `<html>`, `{"detail":[[]]}`, `{"detail":[{"loc":[null,{},1e400]}]}`} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, code bool) {
		info := DecodeError(body, code)
		if len(info.Fields) > len(body) {
			t.Fatalf("more fields than bytes")
		}
	})
}
