package bulk

import (
	"maps"
	"time"
)

// Progress is a run's state, reported to Options.Progress.
type Progress struct {
	// Done is the number of items that ended — made, found, refused,
	// failed or unknown —, Total the number the input holds (Options.Total;
	// 0 when unknown). Items the run stopped before starting are not done:
	// they are counted in Counts[NotAttempted] only, so that a stopped run
	// shows how far it got, and the rate and ETA stay those of real work.
	Done, Total int
	// Counts is the number of results per outcome so far. It is the
	// callback's own copy.
	Counts map[Outcome]int
	// Elapsed is the time since the run started.
	Elapsed time.Duration
	// Rate is items done a second, over the last rateSpan (a paced run's
	// steady rate, not dragged down by a slow start or a resume's replays).
	// Items not attempted are not part of it.
	Rate float64
	// ETA is the time left at Rate; 0 when Total or Rate is unknown.
	ETA time.Duration
	// Final is set on the last report, made when the run has ended.
	Final bool
}

// rateSpan is how far back Progress.Rate looks.
const rateSpan = 10 * time.Second

// tracker keeps a run's counts and computes its progress reports. It is
// used by one goroutine: the one ranging over the results.
type tracker struct {
	start   time.Time
	total   int
	done    int
	counts  map[Outcome]int
	samples []sample // (time, done) at each report, the last rateSpan of them
}

type sample struct {
	at   time.Time
	done int
}

func newTracker(start time.Time, total int) *tracker {
	return &tracker{start: start, total: total, counts: map[Outcome]int{}, samples: []sample{{start, 0}}}
}

func (t *tracker) add(r Result) {
	if r.Outcome != NotAttempted {
		t.done++
	}
	t.counts[r.Outcome]++
}

// report returns the progress at now.
func (t *tracker) report(now time.Time, final bool) Progress {
	t.samples = append(t.samples, sample{now, t.done})
	cut := 0
	for cut < len(t.samples)-2 && now.Sub(t.samples[cut+1].at) >= rateSpan {
		cut++
	}
	t.samples = t.samples[cut:]
	p := Progress{Done: t.done, Total: t.total, Counts: maps.Clone(t.counts), Elapsed: now.Sub(t.start), Final: final}
	first := t.samples[0]
	if span := now.Sub(first.at); span > 0 {
		p.Rate = float64(t.done-first.done) / span.Seconds()
	}
	if p.Rate > 0 && t.total > t.done && !final {
		p.ETA = time.Duration(float64(t.total-t.done) / p.Rate * float64(time.Second))
	}
	return p
}
