//go:build !unix

package pgtest

import "syscall"

// sysProcAttr: without unix users (and root) the binaries run as ourselves.
func sysProcAttr(*account) *syscall.SysProcAttr { return nil }
