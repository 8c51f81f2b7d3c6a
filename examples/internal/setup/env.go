package setup

import (
	"fmt"
	"io"
	"slices"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// Env is what an example runs with, made by Flags.Start.
type Env struct {
	// Client is the client to call: the fake's, or the real APIs'.
	Client *subkit.Client
	// IDs are the objects the creates name.
	IDs IDs
	// Fault is the -fault asked for; "none" without one, and with -live.
	Fault string
	// Fake is the fake the client talks to; nil with -live.
	Fake *subkittest.Server
	apis []subkit.API
}

// Calls reports whether the example calls api in this run: on the fake,
// every API it calls; with -live, those whose credential and IDs are set.
func (e *Env) Calls(api subkit.API) bool { return slices.Contains(e.apis, api) }

// Close releases the client's idle connections and stops the fake.
func (e *Env) Close() {
	e.Client.CloseIdleConnections()
	if e.Fake != nil {
		e.Fake.Close()
	}
}

// PrintFake prints what the fake saw of each API the example calls: how
// many requests it received, and the IDs of the subscriptions it now holds
// (what a look-up should agree with). With -live it prints nothing.
func (e *Env) PrintFake(w io.Writer) {
	if e.Fake == nil {
		return
	}
	for _, api := range e.apis {
		var held []string
		switch api {
		case subkit.ChatDash:
			for _, s := range e.Fake.ChatDashSubscriptions() {
				held = append(held, s.ID)
			}
		case subkit.Chargeflow:
			for _, s := range e.Fake.ChargeflowSubscriptions() {
				held = append(held, s.ID)
			}
		case subkit.Polar:
			for _, s := range e.Fake.PolarSubscriptions() {
				held = append(held, s.ID)
			}
		}
		fmt.Fprintf(w, "fake:     %s received %d request(s) and holds %d subscription(s) %v\n",
			apiName(api), len(e.Fake.Requests(api)), len(held), held)
	}
}
