package subkitsql_test

import "syscall"

// childProcAttr makes the kernel kill a child of the kill -9 tests if the
// test binary dies first, so that none outlives its test.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
