package subkit

import (
	"context"
	"iter"
)

// pageFunc fetches the page at cursor: its items, the cursor of the next
// page, and whether there is one.
type pageFunc[T any, C comparable] func(ctx context.Context, cursor C) (items []*T, next C, more bool, err error)

// paginate turns pages into a lazy sequence. A page is fetched only when the
// loop asks for its first item, so breaking out fetches nothing more; an
// error is yielded once and ends the sequence. A next cursor equal to the
// current one would loop for ever, so it ends the sequence with an error.
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
			if !more {
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
