package main

import (
	"errors"
	"iter"
	"regexp"
	"slices"

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
// fake), and the columns nothing reads.
type scan struct {
	items, otherShards                       int
	apis                                     map[subkit.API]bool
	products, customers, externals, disputes map[string]bool
	unknownColumns                           []string
}

func (c *config) scan(format string, data []byte, s *schema) (*scan, error) {
	sc := &scan{apis: map[subkit.API]bool{}, products: map[string]bool{}, customers: map[string]bool{},
		externals: map[string]bool{}, disputes: map[string]bool{}}
	unknown := map[string]bool{}
	for rec, err := range records(format, data) {
		if errors.Is(err, errBadHeader) {
			return nil, err
		}
		for col := range rec.values {
			if !s.known(col) {
				unknown[col] = true
			}
		}
	}
	for it, err := range c.itemsOf(format, data, s, &sc.otherShards) {
		sc.items++
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
