package subkit

import (
	"context"
	"fmt"
	"iter"

	"github.com/subkit-go/subkit/internal/validate"
)

// pageFunc fetches the page at cursor: its items, the cursor of the next
// page, whether there is one, and what the request learned.
type pageFunc[T any, C comparable] func(ctx context.Context, cursor C) (items []*T, next C, more bool, info ResponseInfo, err error)

// paginate turns pages into a lazy sequence. A page is fetched only when the
// loop asks for its first item, so breaking out fetches nothing more; an
// error is yielded once and ends the sequence. A next cursor equal to the
// current one would loop for ever, so it ends the sequence with an error; so
// would a server that keeps saying there is more after an empty page, so
// fetch must report no more after an empty page. When the loop ends, the caller's
// ResponseInfo gets the last page's status and request ID and the attempts
// of every page.
func paginate[T any, C comparable](ctx context.Context, api API, cs callSettings, first C, fetch pageFunc[T, C], stuck func(C) error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		total := ResponseInfo{API: api}
		defer func() { _, _ = finish[T](cs, total, nil, nil) }()
		cursor := first
		for {
			items, next, more, info, err := fetch(ctx, cursor)
			total.StatusCode, total.RequestID = info.StatusCode, info.RequestID
			total.Attempts += info.Attempts
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

// failed is a sequence that yields err, found before anything was sent, once.
func failed[T any](api API, cs callSettings, err error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		_, _ = finish[T](cs, ResponseInfo{API: api}, nil, nil)
		yield(nil, err)
	}
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

// checkPageSize is the one rule for a list's PageSize: not negative.
func checkPageSize(v *validate.Problems, n int) {
	if n < 0 {
		v.Add("limit", validate.CodeInvalid, "must not be negative (0 for %d), got %d", maxPageSize, n)
	}
}

// pageLimit is the limit a list sends for PageSize n: 0 means the largest
// page, and a larger one is lowered to it, as Polar's server does, rather
// than refused (a page size changes the number of requests, never the
// result).
func pageLimit(n int) int {
	if n == 0 || n > maxPageSize {
		return maxPageSize
	}
	return n
}
