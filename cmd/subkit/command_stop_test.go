package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A paced run is interrupted (SIGINT) and killed (SIGKILL) at random moments
// and rerun at once each time, in one directory (the default state file),
// while look-ups lag: each interrupted run returns within 2 s with a
// complete report (every line once; not_attempted for those not made) and
// a progress that counts only what ended; each killed run leaves a report
// of whole lines whose creates the fake holds; the last rerun completes,
// and the fake holds exactly one subscription per line. A killed run's keys
// in flight stay locked for -lease (3 s here, 15 s by default), which the
// rerun after it waits out.
func TestBulkInterruptedAndKilledRunsResume(t *testing.T) {
	t.Parallel()
	const n = 400
	rnd := chaosRand(t)
	fake := startFake(t, "", "-implicit", "-read-lag", "polar=50ms-300ms")
	input, args := users(t, n)
	args = append(args, "-rate", "polar=100/1s", "-settle", "500ms", "-lease", "3s", "-progress", "bar")
	dir := t.TempDir()

	for i, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL, syscall.SIGINT, syscall.SIGKILL, syscall.SIGINT} {
		report := filepath.Join(dir, fmt.Sprintf("report-%d.jsonl", i))
		before := len(fake.keysHeld())
		run := startBulk(t, noCredentials(), append([]string{"-base-url", fake.url, "-report", report, input}, args...)...)
		stderr := run.stderr
		// The moment: once the run has made some creates (or right away),
		// then up to half a second more, in whatever state it is then.
		waitFor := before + rnd.IntN(min(80, n-before+1))
		for len(fake.keysHeld()) < waitFor && !run.exited() {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Duration(rnd.IntN(500)) * time.Millisecond)
		signalled := time.Now()
		_ = run.cmd.Process.Signal(sig) // it may have ended already
		exit := run.wait()
		took := time.Since(signalled)
		lines, partial := readReportFile(t, report)
		t.Logf("run %d: %v after %d creates, exit %d in %s, %d report lines", i, sig, waitFor, exit, took.Round(time.Millisecond), len(lines))
		held := fake.keysHeld()

		if exit == exitOK { // the run ended before the signal
			continue
		}
		if sig == syscall.SIGKILL {
			assert.Equal(t, -1, exit)
			for _, l := range lines {
				if l.Outcome == "created" || l.Outcome == "replayed" {
					assert.Equal(t, 1, held[l.Key], "run %d: line %d reported %s, held once", i, l.Line, l.Outcome)
				}
			}
			continue // at most one partial last line, which readReportFile dropped
		}
		assert.Equal(t, exitInterrupted, exit, "run %d: %s", i, stderr)
		assert.Less(t, took, 2*time.Second, "run %d: Ctrl-C returns within 2 s", i)
		assert.False(t, partial, "run %d", i)
		require.Len(t, lines, n, "run %d: every line is in the report", i)
		ended, notAttempted := 0, 0
		for _, l := range lines {
			switch l.Outcome {
			case "not_attempted":
				notAttempted++
				assert.Equal(t, "retry", l.Action)
			case "created", "replayed":
				ended++
				assert.Equal(t, 1, held[l.Key], "run %d: line %d", i, l.Line)
			default:
				t.Errorf("run %d: line %d %s: %s", i, l.Line, l.Outcome, l.Error)
			}
		}
		// The bar's last frame counts only what ended, and says what was not.
		frames := strings.Split(stderr.String(), "\r")
		last := frames[len(frames)-1]
		assert.Contains(t, last, fmt.Sprintf("] %d/%d ", ended, n), "run %d: %q", i, last)
		if notAttempted > 0 {
			assert.Contains(t, last, fmt.Sprintf("%d not attempted", notAttempted), "run %d", i)
			assert.Contains(t, stderr.String(), fmt.Sprintf("%d line(s) not attempted: rerun the same input to make them", notAttempted))
		}
		checkFrames(t, frames)
	}

	heldBefore := len(fake.keysHeld())
	sumPath := filepath.Join(dir, "summary.json")
	res := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, "-summary", sumPath, input}, args...)...)
	require.Equal(t, exitOK, res.exit, res.stderr)
	report := readReport(t, res.stdout)
	require.Len(t, report, n)
	keys := fake.keysHeld()
	require.Len(t, keys, n)
	for k, c := range keys {
		require.Equal(t, 1, c, "key %s", k)
	}
	// Every create the earlier runs made was claimed in the state file
	// before it was sent: the file knew each, finished or pending.
	st := readSummary(t, sumPath).Store
	require.NotNil(t, st)
	assert.Equal(t, "sqlite", st.Kind)
	assert.GreaterOrEqual(t, st.Known, heldBefore, "the state file knew every key the earlier runs created")
	t.Logf("the last rerun: the fake held %d keys before it; the state file knew %d of %d keys, %d of them pending", heldBefore, st.Known, st.Keys, st.Pending)
}

// frameCount reads a bar frame's count and its outcome counts.
var frameCount = regexp.MustCompile(`\] (\d+)/\d+ +\d+% (.*?)(?: · |\x1b)`)

// checkFrames checks that each frame of the bar was drawn once, with the
// count its outcomes add up to: a frame drawn twice, once before its count
// was updated (as the progress bar library did), shows a count and
// outcomes that disagree.
func checkFrames(t *testing.T, frames []string) {
	t.Helper()
	for _, f := range frames[1:] {
		m := frameCount.FindStringSubmatch(f)
		if m == nil {
			continue
		}
		done, _ := strconv.Atoi(m[1])
		sum := 0
		for _, part := range strings.Split(m[2], ", ") {
			if fields := strings.Fields(part); len(fields) == 2 {
				k, _ := strconv.Atoi(fields[1])
				sum += k
			}
		}
		assert.Equal(t, done, sum, "frame %q", f)
	}
}
