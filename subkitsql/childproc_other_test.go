//go:build !linux

package subkitsql_test

import "syscall"

// childProcAttr: only Linux ties a child's life to its parent's; elsewhere
// the test's cleanup kills it.
func childProcAttr() *syscall.SysProcAttr { return nil }
