package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunHandlesEachEventOnce(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"its 3 events delivered and handled", "3 duplicate(s) answered 200 without the handler",
		"endpoint enabled: false", "12 events redelivered", "the handler ran 18 times for 6 subscriptions; 6 have access"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
