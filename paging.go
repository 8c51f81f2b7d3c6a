package subkit

import (
	"context"
	"fmt"
	"iter"

	"github.com/subkit-go/subkit/internal/validate"
)

// pageFunc fetches the page at cursor: its items, the cursor of the next
// page, and whether there is one.
type pageFunc[T any, C comparable] func(ctx context.Context, cursor C) (items []*T, next C, more bool, err error)

// paginate turns pages into a lazy sequence. A page is fetched only when the
// loop asks for its first item, so breaking out fetches nothing more; an
// error is yielded once and ends the sequence. A next cursor equal to the
// current one would loop for ever, so it ends the sequence with an error; so
// would a server that keeps saying there is more after an empty page, so an
// empty page ends the sequence.
func paginate[T any, C comparable](ctx context.Context, first C, fetch pageFunc[T, C], stuck func(C) error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		cursor := first
		for {
			items, next, more, err := fetch(ctx, cursor)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if !more || len(items) == 0 {
				return
			}
			if next == cursor {
				yield(nil, stuck(cursor))
				return
			}
			cursor = next
		}
	}
}

// failed is a sequence that yields err once.
func failed[T any](err error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) { yield(nil, err) }
}

// noNullItem refuses a page with a null item, which a caller would get as a
// nil subscription and a look-up would dereference: the page cannot be read,
// which for a look-up deciding whether a create happened must never read as
// "not there".
func noNullItem[T any](key string, items []*T) error {
	for i, it := range items {
		if it == nil {
			return fmt.Errorf("%s[%d] is null", key, i)
		}
	}
	return nil
}

// maxPageSize is the largest page the list endpoints serve.
const maxPageSize = 100

// checkPageSize is the one rule for a list's PageSize: 0 (the largest page)
// or 1–100.
func checkPageSize(v *validate.Problems, n int) {
	if n < 0 || n > maxPageSize {
		v.Add("limit", validate.CodeInvalid, "must be between 1 and %d (0 for %d), got %d", maxPageSize, maxPageSize, n)
	}
}

// pageLimit is the limit a list sends for PageSize n.
func pageLimit(n int) int {
	if n == 0 {
		return maxPageSize
	}
	return n
}
