package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
)

// reportLine is one line of the report: how one input line ended.
type reportLine struct {
	// Line is the input line (1 is a CSV file's header, or a JSON Lines
	// file's first line).
	Line           int    `json:"line"`
	Key            string `json:"key,omitempty"`
	API            string `json:"api,omitempty"`
	Create         string `json:"create,omitempty"`
	Outcome        string `json:"outcome"`
	SubscriptionID string `json:"subscription_id,omitempty"`
	RequestID      string `json:"request_id,omitempty"`
	Error          string `json:"error,omitempty"`
	// Action is subkit.Classify's advice for the error: fix, retry,
	// retry_later or look_up.
	Action       string `json:"action,omitempty"`
	MayBeApplied bool   `json:"may_be_applied,omitempty"`
}

func lineOf(r bulk.Result) reportLine {
	l := reportLine{Line: r.Item.Line, Key: r.Item.Key, API: string(r.API), Create: createOf(r.Item),
		Outcome: string(r.Outcome), SubscriptionID: r.SubscriptionID(), RequestID: r.Info.RequestID}
	if r.Err != nil {
		class := subkit.Classify(r.Err)
		l.Error, l.Action, l.MayBeApplied = r.Err.Error(), string(class.Action), class.MayBeApplied
	}
	return l
}

// report writes the JSON Lines report, buffered; flush writes it out.
type report struct {
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

func newReport(w io.Writer) *report {
	b := bufio.NewWriter(w)
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return &report{w: b, enc: enc}
}

func (r *report) write(res bulk.Result) {
	if r.err == nil {
		r.err = r.enc.Encode(lineOf(res))
	}
}

func (r *report) flush() error {
	if r.err == nil {
		r.err = r.w.Flush()
	}
	return r.err
}

// summary is what a run did, printed at its end and written by -summary.
type summary struct {
	Items       int            `json:"items"`
	Outcomes    map[string]int `json:"outcomes"`
	OtherShards int            `json:"other_shards,omitempty"`
	// Requests counts the requests sent, per API; RateLimited the 429s
	// among their answers.
	Requests    map[string]int64 `json:"requests"`
	RateLimited int64            `json:"rate_limited"`
	// RequestsPerItem is every request sent over the items made or found.
	RequestsPerItem float64 `json:"requests_per_item"`
	WallSeconds     float64 `json:"wall_seconds"`
	Interrupted     bool    `json:"interrupted,omitempty"`
	ExitCode        int     `json:"exit_code"`
}

func newSummary(counts map[bulk.Outcome]int, e *env, otherShards int, wall time.Duration, interrupted bool) *summary {
	s := &summary{Outcomes: map[string]int{}, Requests: map[string]int64{}, OtherShards: otherShards,
		WallSeconds: wall.Seconds(), Interrupted: interrupted, RateLimited: e.counter.tooMany.Load()}
	ok, total := 0, int64(0)
	for _, o := range bulk.Outcomes() {
		s.Items += counts[o]
		s.Outcomes[string(o)] = counts[o]
		if o.OK() {
			ok += counts[o]
		}
	}
	for api, n := range e.counter.requests {
		if v := n.Load(); v > 0 {
			s.Requests[string(api)] = v
			total += v
		}
	}
	if ok > 0 {
		s.RequestsPerItem = float64(total) / float64(ok)
	}
	s.ExitCode = exitCode(counts, interrupted)
	return s
}

// The exit statuses of subkit bulk.
const (
	exitOK          = 0   // every item created, replayed or reconciled
	exitFailed      = 1   // some item failed or conflicted: fix the input
	exitUsage       = 2   // bad usage or setup: nothing was sent
	exitRerun       = 3   // some outcome unknown or not attempted: rerun the same input
	exitInterrupted = 130 // stopped by a signal: rerun to resume
)

func exitCode(counts map[bulk.Outcome]int, interrupted bool) int {
	switch {
	case interrupted:
		return exitInterrupted
	case counts[bulk.Unknown] > 0 || counts[bulk.NotAttempted] > 0:
		return exitRerun
	case counts[bulk.Failed] > 0 || counts[bulk.Conflicted] > 0:
		return exitFailed
	}
	return exitOK
}

// String is the summary as people read it.
func (s *summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d item(s) in %.1fs:", s.Items, s.WallSeconds)
	for _, o := range bulk.Outcomes() {
		if n := s.Outcomes[string(o)]; n > 0 {
			fmt.Fprintf(&b, " %s %d,", o, n)
		}
	}
	var total int64
	for _, n := range s.Requests {
		total += n
	}
	fmt.Fprintf(&b, " %d request(s)", total)
	if s.RequestsPerItem > 0 {
		fmt.Fprintf(&b, " (%.3f an item)", s.RequestsPerItem)
	}
	fmt.Fprintf(&b, ", %d answered 429", s.RateLimited)
	if s.OtherShards > 0 {
		fmt.Fprintf(&b, "; %d line(s) left to other shards", s.OtherShards)
	}
	if s.Interrupted {
		b.WriteString("; interrupted: rerun the same input to resume")
	}
	return b.String()
}
