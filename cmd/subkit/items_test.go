package main

import (
	"testing"

	"github.com/subkit-go/subkit/bulk"
)

// The command reads a line of every kind of create bulk makes, and of no
// other: one table of kinds (bulk.Kinds), one reader per kind here.
func TestEveryBulkKindHasALineReader(t *testing.T) {
	readers := lineKinds()
	for _, k := range bulk.Kinds() {
		r, ok := readers[k.Name]
		if !ok {
			t.Errorf("bulk kind %q has no line reader", k.Name)
			continue
		}
		if len(r.required) == 0 {
			t.Errorf("%q: no required column", k.Name)
		}
		it := bulk.Item{}
		r.read(&line{rec: record{line: 1}}, &it)
		if got, ok := it.Kind(); !ok || got.Name != k.Name {
			t.Errorf("the %q reader makes an item of kind %q", k.Name, got.Name)
		}
	}
	if len(readers) != len(bulk.Kinds()) {
		t.Errorf("%d readers for %d kinds", len(readers), len(bulk.Kinds()))
	}
}
