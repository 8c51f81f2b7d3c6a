//go:build !race

package bulk_test

// raceDetector: see race_test.go.
const raceDetector = false
