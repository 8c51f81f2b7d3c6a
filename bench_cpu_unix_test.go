//go:build unix

package subkit_test

import "syscall"

// benchCPUTime is the CPU time (user + system) the process has used so far,
// in nanoseconds: the client's and the in-process server's together.
func benchCPUTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
