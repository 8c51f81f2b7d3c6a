package subkit_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSnippetsCompile checks that every Go block of README.md stands,
// line for line, in a test file of this module — an Example function or a
// snippet function in readme_snippets_test.go — so that `go vet` and `go
// test` compile it and a README that drifts from the API fails CI.
func TestReadmeSnippetsCompile(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var corpus strings.Builder
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			corpus.WriteString(normalizeCode(string(b)))
			corpus.WriteString("\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 10 {
		t.Fatalf("found %d Go blocks in README.md: the pattern is broken", len(blocks))
	}
	for _, b := range blocks {
		code := normalizeCode(b[1])
		if !strings.Contains(corpus.String(), code) {
			first, _, _ := strings.Cut(code, "\n")
			t.Errorf("README.md's block starting %q is in no test file: put it in readme_snippets_test.go or an Example", first)
		}
	}
}

// normalizeCode drops indentation, trailing space and empty lines, so that a
// block nested in a function matches the README's unindented copy.
func normalizeCode(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
