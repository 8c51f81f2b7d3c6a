package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

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
	// EarlierLine is, for a conflict, the line of this input that holds
	// the key for another create.
	EarlierLine int `json:"earlier_line,omitempty"`
}

// Bounds on what the report echoes of the input and of errors: a 5 MB
// value must not make a 5 MB report. A key within the SDK's limit (500
// characters) is never cut.
const (
	maxKeyEcho   = 600 // bytes; a longer key is invalid anyway
	maxErrorEcho = 2000
)

// lines is what the report knows of the input beyond a result: which lines
// share a key, and which line made or found each key in this run.
type lines struct {
	sc   *scan
	made map[string]int
}

func (ls *lines) of(r bulk.Result) reportLine {
	l := reportLine{Line: r.Item.Line, Key: clipKey(r.Item.Key), API: string(r.API), Create: createOf(r.Item),
		Outcome: string(r.Outcome), SubscriptionID: r.SubscriptionID(), RequestID: r.Info.RequestID}
	if r.Outcome.OK() {
		if _, seen := ls.made[r.Item.Key]; !seen {
			ls.made[r.Item.Key] = r.Item.Line
		}
	}
	if r.Err != nil {
		class := subkit.Classify(r.Err)
		l.Error, l.Action, l.MayBeApplied = r.Err.Error(), string(class.Action), class.MayBeApplied
		if r.Outcome == bulk.Conflicted {
			l.EarlierLine = ls.other(r.Item)
			if l.EarlierLine > 0 {
				l.Error = fmt.Sprintf("line %d of this input has the same key for another create: %s", l.EarlierLine, l.Error)
			} else {
				l.Error = "no other line of this input has the key: it was used before, for another create: " + l.Error
			}
		}
		l.Error = clip(l.Error, maxErrorEcho)
	}
	return l
}

// other is the line of this input that holds its key for another create:
// the line that made or found the key in this run, else the first other
// line with it; 0 when no other line has it.
func (ls *lines) other(it bulk.Item) int {
	if line, ok := ls.made[it.Key]; ok && line != it.Line {
		return line
	}
	if first := ls.sc.firstLine[it.Key]; first != it.Line && first != 0 {
		return first
	}
	for _, line := range ls.sc.sameKey[it.Key] {
		if line != it.Line {
			return line
		}
	}
	return 0
}

// clipKey clips a key longer than the SDK accepts, leaving any valid key
// whole.
func clipKey(k string) string {
	if len(k) <= maxKeyEcho || utf8.RuneCountInString(k) <= 500 {
		return k
	}
	return clip(k, maxKeyEcho)
}

// report writes the JSON Lines report as results arrive, in batches of
// whole lines: each write holds complete lines only, so that a process
// killed at any moment leaves a report of complete lines (a write to a
// regular file is not torn by a signal; a full disk may leave one partial
// last line, which nothing reads as a line). flush writes what is
// buffered; the run calls it every reportEvery, and write when a batch
// reaches reportBatch bytes.
type report struct {
	w   io.Writer
	buf bytes.Buffer
	enc *json.Encoder
	err error
}

// How often the report is written out, and how much it buffers at most: a
// process killed loses at most the results of the last reportEvery.
const (
	reportEvery = 100 * time.Millisecond
	reportBatch = 64 << 10
)

func newReport(w io.Writer) *report {
	r := &report{w: w}
	r.enc = json.NewEncoder(&r.buf)
	r.enc.SetEscapeHTML(false)
	return r
}

func (r *report) write(l reportLine) {
	if r.err != nil {
		return
	}
	if r.err = r.enc.Encode(l); r.err == nil && r.buf.Len() >= reportBatch {
		r.flush()
	}
}

func (r *report) flush() error {
	if r.err == nil && r.buf.Len() > 0 {
		_, r.err = r.w.Write(r.buf.Bytes())
		r.buf.Reset()
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
	// Store is the idempotency store the run used, and what it knew.
	Store *storeSummary `json:"store,omitempty"`
	// BuiltInFake is, for a run against the built-in fake, the
	// subscriptions it held per API when the run ended: it is gone with the
	// process.
	BuiltInFake map[string]int `json:"built_in_fake,omitempty"`
	ExitCode    int            `json:"exit_code"`
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
	s.Store = storeSummaryOf(e.shared)
	if e.fake != nil {
		s.BuiltInFake = map[string]int{string(subkit.Polar): len(e.fake.PolarSubscriptions()),
			string(subkit.Chargeflow): len(e.fake.ChargeflowSubscriptions())}
	}
	s.ExitCode = exitCode(counts, interrupted)
	return s
}

// storeSummary names the run's idempotency store and says how many of the
// keys the run took it already knew: with a record of the same create's
// target, finished (replayed from it, nothing sent) or pending (sent by an
// earlier run that never learned the outcome: looked up until settled
// before anything was sent).
type storeSummary struct {
	Kind  string `json:"kind"`  // sqlite, postgres, redis or memory
	Where string `json:"where"` // the state file, or the server; never a password
	// Keys is how many keys the run took in the store; Known how many of
	// them it already knew, Pending how many of those were pending.
	Keys    int `json:"keys"`
	Known   int `json:"known"`
	Pending int `json:"pending"`
}

func storeSummaryOf(s *sharedState) *storeSummary {
	if s == nil {
		return nil
	}
	sum := &storeSummary{Kind: string(s.kind), Where: s.where}
	if s.store != nil {
		c := s.store.counts()
		sum.Keys, sum.Known, sum.Pending = c.Taken, c.Known, c.Pending
	}
	return sum
}

// String says which store the run used and what it knew.
func (s *storeSummary) String() string {
	var b strings.Builder
	switch storeKind(s.Kind) {
	case storeMemory:
		return "the idempotency store was " + s.Where + ": nothing of this run is kept for a rerun but what the API shows"
	case storeSQLite:
		b.WriteString("the SQLite state file " + s.Where)
	default:
		b.WriteString("the idempotency store, " + s.Where + ",")
	}
	switch {
	case s.Keys == 0:
		b.WriteString(" was asked about no key")
	case s.Known == 0:
		fmt.Fprintf(&b, " knew none of the %d key(s) this run took", s.Keys)
	default:
		fmt.Fprintf(&b, " already knew %d of the %d key(s) this run took: %d finished, replayed from it without asking the API",
			s.Known, s.Keys, s.Known-s.Pending)
		if s.Pending > 0 {
			fmt.Fprintf(&b, "; %d left pending by an earlier run, looked up until settled before anything was sent", s.Pending)
		}
	}
	return b.String()
}

// The exit statuses of subkit bulk.
const (
	exitOK          = 0   // every item created, replayed or reconciled
	exitFailed      = 1   // some item failed or conflicted: fix the input
	exitUsage       = 2   // bad usage, setup or input: nothing was sent
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
	if n := s.Outcomes[string(bulk.NotAttempted)]; n > 0 {
		fmt.Fprintf(&b, "; %d line(s) not attempted: rerun the same input to make them", n)
	}
	if s.Interrupted {
		b.WriteString("; interrupted")
	}
	if s.Store != nil {
		fmt.Fprintf(&b, "\nsubkit bulk: %s", s.Store)
	}
	if s.BuiltInFake != nil {
		fmt.Fprintf(&b, "\nsubkit bulk: the built-in fake held %d Polar and %d Chargeflow subscription(s), and is gone with this run: "+
			"a rerun starts from nothing, against a new built-in fake (a new address and credentials of its own, so a new target: "+
			"the records of this one never answer for it, and it creates again). To see a rerun resume, serve a fake that outlives the run (\"subkit fake\") and give -base-url",
			s.BuiltInFake[string(subkit.Polar)], s.BuiltInFake[string(subkit.Chargeflow)])
	}
	return b.String()
}
