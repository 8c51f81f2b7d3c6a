package subkit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

func TestAPITable(t *testing.T) {
	apis := subkit.APIs()
	require.Len(t, apis, 3)
	names := []subkit.API{}
	for _, a := range apis {
		names = append(names, a.API)
		info, ok := a.API.Info()
		require.True(t, ok)
		assert.Equal(t, a.API, info.API)
		assert.NotEmpty(t, a.EnvVar)
		assert.NotEmpty(t, a.CredentialHeader)
		assert.Regexp(t, `^https://`, a.BaseURL)
		assert.Regexp(t, `^/.*/$`, a.PathPrefix)
	}
	assert.Equal(t, []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar}, names)
	polar, _ := subkit.Polar.Info()
	assert.Equal(t, []subkit.HostRate{{Host: "api.polar.sh", Events: 500, Per: time.Minute},
		{Host: "sandbox-api.polar.sh", Events: 100, Per: time.Minute}}, polar.Rates)
	chatdash, _ := subkit.ChatDash.Info()
	assert.False(t, chatdash.Keyed, "ChatDash shows no create by a key")
	_, ok := subkit.API("paddle").Info()
	assert.False(t, ok)

	// The slice is the caller's.
	apis[0].Name = "changed"
	assert.Equal(t, "ChatDash", subkit.APIs()[0].Name)
}

func TestAPIForPath(t *testing.T) {
	for path, want := range map[string]subkit.API{
		"/v1/public/accounts/acct_1/subscriptions":   subkit.ChatDash, // the longest prefix wins over Polar's /v1/
		"/public/2025-04-01/disputes/x/subscription": subkit.Chargeflow,
		"/v1/subscriptions/":                         subkit.Polar,
		"/v1/webhooks/deliveries":                    subkit.Polar,
	} {
		got, ok := subkit.APIForPath(path)
		assert.True(t, ok, path)
		assert.Equal(t, want, got, path)
	}
	for _, path := range []string{"", "/", "/v2/subscriptions", "/health", "v1/subscriptions/", "/public"} {
		_, ok := subkit.APIForPath(path)
		assert.False(t, ok, "%q is no API's: an error, never a guess", path)
	}
}
