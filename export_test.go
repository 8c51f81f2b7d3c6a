package subkit

import (
	"encoding/json"
	"net/http"

	"github.com/subkit-go/subkit/internal/validate"
)

// PolarPendingRecord is the pending record a keyed CreateForCustomer of p
// under key on c leaves in the store before it sends: for tests that stage
// a process that died after sending.
func PolarPendingRecord(c *Client, p *CustomerSubscriptionParams, key string) *IdempotencyRecord {
	md := Metadata{reservedMetadataKey: key}
	for k, v := range p.Metadata {
		md[k] = v
	}
	body := &polarCreateBody{ProductID: validate.CanonicalUUID(p.ProductID), CustomerID: validate.CanonicalUUID(p.CustomerID), Metadata: md}
	b, _ := json.Marshal(body)
	r := &request{api: Polar, method: http.MethodPost, path: polarSubscriptionsPath}
	return &IdempotencyRecord{Fingerprint: fingerprint(r, b), Target: c.api(Polar).target, Pending: true}
}

// MemoryClock makes a MemoryStore read time from now.
var MemoryClock = memoryClock

// MemoryStoreLen is how many keys s holds, expired ones included.
func MemoryStoreLen(s *MemoryStore) int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].keys)
		s.shards[i].mu.Unlock()
	}
	return n
}
