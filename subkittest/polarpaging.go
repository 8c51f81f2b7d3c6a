package subkittest

import (
	"bytes"
	"math/big"
	"strconv"
)

// polarPaging reads page and limit as Polar's PaginationParamsQuery does
// (server/polar/kit/pagination.py): integers above 0, page 1 and limit 10
// by default, a limit above polarMaxLimit lowered to it.
func polarPaging(q query) (page, limit *big.Int, errs []pydError) {
	var e *pydError
	if page, e = positiveInt(q, "page", 1); e != nil {
		errs = append(errs, *e)
	}
	if limit, e = positiveInt(q, "limit", 10); e != nil {
		errs = append(errs, *e)
	} else if limit.Cmp(big.NewInt(polarMaxLimit)) > 0 {
		limit = big.NewInt(polarMaxLimit)
	}
	return page, limit, errs
}

// polarListBody writes a ListResource: the page of items (each already
// JSON) out of all of them, and the pagination; a page past the end is
// empty.
func polarListBody(items [][]byte, page, limit *big.Int) []byte {
	total := big.NewInt(int64(len(items)))
	offset := new(big.Int).Mul(new(big.Int).Sub(page, big.NewInt(1)), limit)
	var shown [][]byte
	if offset.Cmp(total) < 0 {
		start := int(offset.Int64())
		shown = items[start:min(len(items), start+int(limit.Int64()))]
	}
	maxPage := (int64(len(items)) + limit.Int64() - 1) / limit.Int64()
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	b.Write(bytes.Join(shown, []byte(",")))
	b.WriteString(`],"pagination":{"total_count":` + strconv.Itoa(len(items)) + `,"max_page":` + strconv.FormatInt(maxPage, 10) + `}}`)
	return b.Bytes()
}
