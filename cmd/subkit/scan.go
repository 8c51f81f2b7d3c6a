package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"iter"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkittest"
)

// errBadHeader marks an input whose header cannot be read: nothing can run.
var errBadHeader = errors.New("bad header")

// itemsOf reads the input's items for this process's shard; lines of other
// shards are skipped and counted in *skipped. A line whose key cannot be
// read belongs to shard 0, so that exactly one process reports it.
func (c *config) itemsOf(format string, data []byte, s *schema, skipped *int) iter.Seq2[bulk.Item, error] {
	return func(yield func(bulk.Item, error) bool) {
		for rec, err := range records(format, data) {
			var it bulk.Item
			if err == nil {
				it, err = s.item(rec)
			} else {
				it.Line = rec.line
			}
			if c.shard.n > 1 {
				shard := 0
				if it.Key != "" {
					shard = bulk.Shard(it.Key, c.shard.n)
				}
				if shard != c.shard.i {
					*skipped++
					continue
				}
			}
			if !yield(it, err) {
				return
			}
		}
	}
}

// scan is what a first pass over the input learns: how many items this
// process makes, which APIs they call, the objects they name (to seed the
// fake), the columns nothing reads, and the lines that share a key (to
// name the other line of a conflict).
type scan struct {
	items, otherShards                       int
	apis                                     map[subkit.API]bool
	products, customers, externals, disputes map[string]bool
	unknownColumns                           []string
	// firstLine is the first line of each key; sameKey the lines after it
	// that carry the same key.
	firstLine map[string]int
	sameKey   map[string][]int
}

// maxSameKey bounds how many lines sharing a key the scan remembers.
const maxSameKey = 10

// scan reads the whole input once before anything is sent. A problem of the
// input as a whole — a header that cannot be read, a column every line
// needs and none has, no line at all — is its error: reported once, the
// command ends with nothing sent, instead of failing every line alike.
func (c *config) scan(format string, data []byte, s *schema) (*scan, error) {
	sc := &scan{apis: map[subkit.API]bool{}, products: map[string]bool{}, customers: map[string]bool{},
		externals: map[string]bool{}, disputes: map[string]bool{}, firstLine: map[string]int{}, sameKey: map[string][]int{}}
	unknown := map[string]bool{}
	// The columns each create's lines give (CSV: the header, for all).
	given := map[string]map[string]bool{}
	header := headerOf(format, data)
	lines := 0
	for rec, err := range records(format, data) {
		if errors.Is(err, errBadHeader) {
			return nil, err
		}
		lines++
		for col := range rec.values {
			if !s.known(col) {
				unknown[col] = true
			}
		}
		if err != nil {
			continue
		}
		create := s.create
		if create == "" {
			v, _ := rec.values[createColumn].(string)
			create = normalCreate(v)
		}
		if given[create] == nil {
			given[create] = map[string]bool{}
		}
		for col := range rec.values {
			given[create][col] = true
		}
	}
	switch {
	case lines == 0 && format == "csv" && header != nil:
		return nil, errors.New("the CSV has a header and no line under it: nothing to do")
	case lines == 0:
		return nil, errors.New("the input has no line: nothing to do")
	}
	if err := s.missingColumns(header, given); err != nil {
		return nil, err
	}
	for it, err := range c.itemsOf(format, data, s, &sc.otherShards) {
		sc.items++
		if it.Key != "" {
			if _, seen := sc.firstLine[it.Key]; !seen {
				sc.firstLine[it.Key] = it.Line
			} else if len(sc.sameKey[it.Key]) < maxSameKey {
				sc.sameKey[it.Key] = append(sc.sameKey[it.Key], it.Line)
			}
		}
		if err != nil {
			continue
		}
		if api := it.API(); api != "" {
			sc.apis[api] = true
		}
		switch {
		case it.Customer != nil:
			sc.products[it.Customer.ProductID] = true
			sc.customers[it.Customer.CustomerID] = true
		case it.ExternalCustomer != nil:
			sc.products[it.ExternalCustomer.ProductID] = true
			sc.externals[it.ExternalCustomer.ExternalCustomerID] = true
		case it.Dispute != nil:
			sc.disputes[it.DisputeID] = true
		}
	}
	for col := range unknown {
		sc.unknownColumns = append(sc.unknownColumns, col)
	}
	slices.Sort(sc.unknownColumns)
	return sc, nil
}

// missingColumns returns the input's missing columns as one error: for
// CSV, those the header lacks; for JSON Lines, those no line of a create
// gives. A column -set fills is never missing.
func (s *schema) missingColumns(header []string, given map[string]map[string]bool) error {
	has := func(create, col string) bool {
		if _, ok := s.defaults[col]; ok {
			return true
		}
		if header != nil {
			return slices.Contains(header, col)
		}
		return given[create][col]
	}
	missing := func(col, why string) string {
		if header != nil {
			return fmt.Sprintf("the header has no %s column, %s", col, why)
		}
		return fmt.Sprintf("no line has a %s field, %s", col, why)
	}
	var problems []string
	if s.create == "" {
		anyCreate := false
		for create := range given {
			anyCreate = anyCreate || has(create, createColumn)
		}
		if !anyCreate {
			problems = append(problems, missing(createColumn, "and there is no -create: say which create the lines make ("+
				strings.Join(createNames(), ", ")+")"))
		}
	}
	for _, create := range slices.Sorted(maps.Keys(given)) {
		kind, known := lineKinds()[create]
		cols := kind.required
		if !known {
			continue // an unknown create fails its own lines, each with its line number
		}
		if !has(create, s.keyColumn) {
			problems = append(problems, missing(s.keyColumn, "which holds each line's idempotency key (-key names another column)"))
		}
		for _, col := range cols {
			if !has(create, col) {
				problems = append(problems, missing(col, "which "+create+" needs (or -set "+col+"=…)"))
			}
		}
	}
	slices.Sort(problems)
	problems = slices.Compact(problems)
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}

// headerOf returns a CSV input's header as the records read it, nil for
// JSON Lines or an input without one (records reports why).
func headerOf(format string, data []byte) []string {
	if format != "csv" {
		return nil
	}
	header, err := csv.NewReader(bytes.NewReader(data)).Read()
	if err != nil {
		return nil // records reports a header it cannot read
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	return header
}

// The forms the fake's seeding accepts (it panics on others). An ID in
// another form is not seeded: the SDK refuses it before sending.
var (
	uuidForm    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	disputeForm = regexp.MustCompile(`^[0-9a-fA-F]{24}$`)
)

// seed registers with the fake every product, customer and dispute the
// input names, so that it accepts their creates as the real APIs would
// for real objects.
func (sc *scan) seed(srv *subkittest.Server) {
	for id := range sc.products {
		if uuidForm.MatchString(id) {
			srv.AddPolarProduct(subkittest.PolarProduct{ID: id})
		}
	}
	for id := range sc.customers {
		if uuidForm.MatchString(id) {
			srv.AddPolarCustomer(subkittest.PolarCustomer{ID: id})
		}
	}
	for ext := range sc.externals {
		if ext != "" {
			srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: ext})
		}
	}
	for id := range sc.disputes {
		if disputeForm.MatchString(id) {
			srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: id})
		}
	}
}
