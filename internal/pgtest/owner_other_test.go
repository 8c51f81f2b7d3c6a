//go:build !unix

package pgtest_test

import "os"

// ownerUID: without unix users no file belongs to root.
func ownerUID(os.FileInfo) uint32 { return 1 }
