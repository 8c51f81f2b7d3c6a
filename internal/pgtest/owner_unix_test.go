//go:build unix

package pgtest_test

import (
	"os"
	"syscall"
)

// ownerUID is the user ID that owns fi's file.
func ownerUID(fi os.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return 0
}
