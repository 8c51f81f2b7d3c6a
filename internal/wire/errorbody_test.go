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
		{"polar 422", `{"error":"RequestValidationError","detail":[{"loc":["body","metadata","k"],"msg":"bad","type":"t"},{"loc":["query",3],"msg":"m","type":"u"},"junk",{"loc":"x","msg":"y"}]}`, true,
			ErrorInfo{Code: "RequestValidationError", Message: "metadata.k: bad; [3]: m",
				Fields: []FieldProblem{{Field: "metadata.k", Message: "bad", Code: "t"}, {Field: "[3]", Message: "m", Code: "u"}}}},
		{"loc of one element keeps it", `{"detail":[{"loc":["body"],"msg":"Field required","type":"missing"}]}`, true,
			ErrorInfo{Message: "body: Field required", Fields: []FieldProblem{{Field: "body", Message: "Field required", Code: "missing"}}}},
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
