package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/subkit-go/subkit/bulk"
)

// display shows a run's progress on stderr. show is called at every
// progress report of the run (reportEvery) and decides whether to draw.
type display interface {
	show(p bulk.Progress)
}

// newDisplay picks the display -progress asks for: a bar on a terminal,
// plain lines otherwise (a log, a CI job), or nothing.
func newDisplay(mode string, every time.Duration, stderr io.Writer) display {
	width := 0
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			width = w
		}
		if mode == "auto" {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		if width <= 0 {
			width = 100
		}
		return &barDisplay{w: stderr, width: width}
	case "auto", "lines":
		return &linesDisplay{w: stderr, every: every}
	}
	return noDisplay{}
}

// barEvery is how often the bar is drawn.
const barEvery = 200 * time.Millisecond

// barDisplay draws one line, redrawn in place: a bar, the counts, the rate
// and the time left. Each frame is one write, drawn once: a carriage
// return, the frame cut to the terminal's width (a wrapped line could not
// be redrawn in place), and an erase to the end of the line.
type barDisplay struct {
	w     io.Writer
	width int
	next  time.Duration // when, in the run's elapsed time, to draw again
}

func (d *barDisplay) show(p bulk.Progress) {
	if !p.Final && p.Elapsed < d.next {
		return
	}
	d.next = p.Elapsed + barEvery
	frame := bar(p, 24) + " " + describe(p)
	if r := []rune(frame); len(r) > d.width-1 {
		frame = string(r[:d.width-1])
	}
	end := ""
	if p.Final {
		end = "\n" // the summary goes under the bar
	}
	fmt.Fprint(d.w, "\r"+frame+"\x1b[K"+end)
}

// bar draws the share of the items that ended, and the count.
func bar(p bulk.Progress, width int) string {
	if p.Total <= 0 {
		return fmt.Sprintf("%d", p.Done)
	}
	filled := min(width, p.Done*width/p.Total)
	return fmt.Sprintf("[%s%s] %d/%d %3d%%", strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		p.Done, p.Total, p.Done*100/p.Total)
}

// linesDisplay prints a line every interval, and the last one.
type linesDisplay struct {
	w     io.Writer
	every time.Duration
	next  time.Duration
}

func (d *linesDisplay) show(p bulk.Progress) {
	if !p.Final && p.Elapsed < d.next {
		return
	}
	d.next = p.Elapsed + d.every
	done := fmt.Sprint(p.Done)
	if p.Total > 0 {
		done = fmt.Sprintf("%d/%d (%d%%)", p.Done, p.Total, p.Done*100/p.Total)
	}
	fmt.Fprintf(d.w, "subkit bulk: %s %s\n", done, describe(p))
}

type noDisplay struct{}

func (noDisplay) show(bulk.Progress) {}

// describe writes the counts of the items that ended, the rate and the
// time left; at the end, the wall time and what was not attempted.
func describe(p bulk.Progress) string {
	var parts []string
	for _, o := range bulk.Outcomes() {
		if n := p.Counts[o]; n > 0 && o != bulk.NotAttempted {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	s := strings.Join(parts, ", ")
	if p.Rate > 0 && !p.Final {
		s += fmt.Sprintf(" · %.1f/s", p.Rate)
	}
	if p.ETA > 0 {
		s += " · ETA " + p.ETA.Round(time.Second).String()
	}
	if p.Final {
		s += " · " + p.Elapsed.Round(100*time.Millisecond).String()
	}
	if n := p.Counts[bulk.NotAttempted]; n > 0 {
		s += fmt.Sprintf(" · %d not attempted", n)
	}
	return strings.TrimPrefix(s, " · ")
}
