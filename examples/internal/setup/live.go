package setup

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/subkit-go/subkit"
)

// startLive calls each API whose credential and IDs are set, and says why it
// skips the others.
func (f *Flags) startLive(stdout, stderr io.Writer) (*Env, int) {
	env := &Env{IDs: f.ids, Fault: f.fault}
	var skipped, calls []string
	for _, api := range f.cfg.APIs {
		if why := f.cannotCall(api); why != "" {
			skipped = append(skipped, apiName(api)+": "+why)
			continue
		}
		env.apis = append(env.apis, api)
		calls = append(calls, f.describe(api))
	}
	if len(env.apis) == 0 {
		fmt.Fprintf(stderr, "%s: -live has nothing to call:\n  %s\nRun without -live to use the built-in fake APIs; -h lists the flags.\n",
			f.fs.Name(), strings.Join(skipped, "\n  "))
		return nil, 2
	}
	opts := []subkit.Option{subkit.WithEnv(), subkit.WithTimeout(f.timeout), subkit.WithUserAgent(f.userAgent())}
	if !f.polarProd {
		opts = append(opts, subkit.WithPolarSandbox())
	}
	client, err := subkit.New(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", f.fs.Name(), err) // never carries a credential
		return nil, 2
	}
	env.Client = client
	fmt.Fprintf(stdout, "real APIs: %s\n", strings.Join(calls, ", "))
	for _, s := range skipped {
		fmt.Fprintf(stdout, "skipped:   %s\n", s)
	}
	return env, 0
}

// cannotCall says why -live cannot call api, "" when it can.
func (f *Flags) cannotCall(api subkit.API) string {
	if strings.TrimSpace(os.Getenv(credentialVar(api))) == "" {
		return credentialVar(api) + " is not set"
	}
	if missing := f.missing(api); len(missing) > 0 {
		return "needs " + strings.Join(missing, ", ") + " (real IDs)"
	}
	return ""
}

// describe names api as -live calls it.
func (f *Flags) describe(api subkit.API) string {
	switch {
	case api == subkit.Chargeflow:
		return "Chargeflow (its live account: Chargeflow has no sandbox)"
	case api == subkit.Polar && f.polarProd:
		return "Polar (production)"
	case api == subkit.Polar:
		return "Polar (sandbox)"
	}
	return apiName(api)
}

// apiName is api's name as people write it.
func apiName(api subkit.API) string {
	name, _ := names(api)
	return name
}

// credentialVar is the environment variable subkit.WithEnv reads api's
// credential from.
func credentialVar(api subkit.API) string {
	_, env := names(api)
	return env
}

func names(api subkit.API) (name, credentialVar string) {
	switch api {
	case subkit.ChatDash:
		return "ChatDash", "CHATDASH_AGENCY_KEY"
	case subkit.Chargeflow:
		return "Chargeflow", "CHARGEFLOW_API_KEY"
	}
	return "Polar", "POLAR_ACCESS_TOKEN"
}
