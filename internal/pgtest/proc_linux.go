package pgtest

import "syscall"

// sysProcAttr runs a server binary as a's user (nil: as ourselves) and makes
// the kernel kill it when the test binary dies without running its cleanups
// (a timeout's panic, a kill), so that no server outlives its test on a
// shared machine. Go sets the death signal after the user change, which
// would otherwise clear it.
func sysProcAttr(a *account) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if a != nil {
		attr.Credential = &syscall.Credential{Uid: a.uid, Gid: a.gid}
	}
	return attr
}
