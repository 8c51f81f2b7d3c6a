//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr runs a server binary as a's user (nil: as ourselves). Only
// Linux can tie the server's life to the test binary's; elsewhere the test's
// cleanup stops it.
func sysProcAttr(a *account) *syscall.SysProcAttr {
	if a == nil {
		return nil
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.gid}}
}
