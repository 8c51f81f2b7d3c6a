//go:build race

package bulk_test

// raceDetector is set when the tests run with -race, which makes the fake
// and the client about ten times slower: the tests that run at an API's
// ceiling scale their rate down to what the machine can serve.
const raceDetector = true
