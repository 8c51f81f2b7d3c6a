package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/subkit-go/subkit/subkittest"
)

// The admin API answers only with the admin token; the fake APIs never
// need it.
func TestFakeAdminNeedsItsToken(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "")
	for _, token := range []string{"", "wrong", subkittest.PolarToken, fake.token + "x"} {
		for _, path := range []string{"/_subkit/state", "/_subkit/requests", "/_subkit", "/_subkit/nothing"} {
			var answer map[string]any
			assert.Equal(t, http.StatusUnauthorized, fake.adminAs(token, http.MethodGet, path, "", &answer), "token %q, %s", token, path)
			assert.NotContains(t, fmt.Sprint(answer), fake.token)
		}
		assert.Equal(t, http.StatusUnauthorized, fake.adminAs(token, http.MethodPost, "/_subkit/reset", "", nil))
	}
	var unknown map[string]any
	assert.Equal(t, http.StatusNotFound, fake.admin(http.MethodGet, "/_subkit/nothing", "", &unknown))
	assert.Contains(t, fmt.Sprint(unknown["endpoints"]), "POST faults")
}
