//go:build !unix

package redistest

import (
	"errors"
	"os"
)

// redis-server runs on Unix only; these keep the package building elsewhere.
func freeze(*os.Process) error { return errors.New("Pause needs a Unix system") }
func thaw(*os.Process) error   { return nil }
