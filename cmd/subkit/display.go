package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/subkit-go/subkit/bulk"
)

// display shows a run's progress on stderr.
type display interface {
	// interval is how often the run should report.
	interval() time.Duration
	show(p bulk.Progress)
}

// newDisplay picks the display -progress asks for: a bar on a terminal,
// plain lines otherwise (a log, a CI job), or nothing.
func newDisplay(mode string, every time.Duration, stderr io.Writer, total int) display {
	if mode == "auto" {
		mode = "lines"
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		max := total
		if max == 0 {
			max = -1 // a spinner
		}
		return &barDisplay{w: stderr, bar: progressbar.NewOptions(max, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("creating"), progressbar.OptionShowCount(), progressbar.OptionSetWidth(30),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(false))}
	case "lines":
		return &linesDisplay{w: stderr, every: every}
	}
	return noDisplay{}
}

// barDisplay draws a progress bar with the counts, rate and ETA after it.
type barDisplay struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (*barDisplay) interval() time.Duration { return 200 * time.Millisecond }

func (d *barDisplay) show(p bulk.Progress) {
	d.bar.Describe(describe(p))
	_ = d.bar.Set(p.Done)
	if p.Final {
		_ = d.bar.Finish()
		_ = d.bar.Exit()
		fmt.Fprintln(d.w) // the summary goes under the bar, not after it
	}
}

// linesDisplay prints a line every interval.
type linesDisplay struct {
	w     io.Writer
	every time.Duration
}

func (d *linesDisplay) interval() time.Duration { return d.every }

func (d *linesDisplay) show(p bulk.Progress) {
	done := fmt.Sprint(p.Done)
	if p.Total > 0 {
		done = fmt.Sprintf("%d/%d (%d%%)", p.Done, p.Total, p.Done*100/p.Total)
	}
	fmt.Fprintf(d.w, "subkit bulk: %s %s\n", done, describe(p))
}

type noDisplay struct{}

func (noDisplay) interval() time.Duration { return time.Hour }
func (noDisplay) show(bulk.Progress)      {}

// describe writes the counts, the rate and the time left.
func describe(p bulk.Progress) string {
	var parts []string
	for _, o := range bulk.Outcomes() {
		if n := p.Counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	s := strings.Join(parts, ", ")
	if p.Rate > 0 {
		s += fmt.Sprintf(" · %.1f/s", p.Rate)
	}
	if p.ETA > 0 {
		s += " · ETA " + p.ETA.Round(time.Second).String()
	}
	if p.Final {
		s += " · " + p.Elapsed.Round(100*time.Millisecond).String()
	}
	return s
}
