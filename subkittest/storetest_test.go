package subkittest_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// brokenEnv names, in a child run of this test binary, the broken store
// TestIdempotencyStore is run on.
const brokenEnv = "SUBKITTEST_BROKEN_STORE"

// TestIdempotencyStoreCatchesBrokenStores runs the store contract on the
// memory store made wrong in one way at a time, each in a child process of
// this test binary (a failing kit must not fail this test), and checks that
// the subtest meant to catch that wrong does fail — and, as the control,
// that the memory store as it is passes them all. (The memory store's own
// conformance run is in the root package: store_conformance_test.go.)
func TestIdempotencyStoreCatchesBrokenStores(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		subkittest.TestIdempotencyStore(t, subkittest.SharedBackend(func(*testing.T) func() subkit.IdempotencyStore {
			m := subkit.NewMemoryStore()
			return func() subkit.IdempotencyStore { return brokenStores()[name](m) }
		}))
		return
	}
	for name, caught := range map[string]string{
		"two-holders":     "Lock/OneHolderAtATime",
		"claim-overwrite": "Claim/NotAppliedOverARecord",
		"claim-ignored":   "Claim/AppliedWhenNoRecord",
		"lost-unreported": "Fence/RunOutWithoutTakeover",
		"no-expiry":       "Record/ExpiresAfterItsTTL",
		"shared-bytes":    "Record/ReturnedCopies",
		"since-sent-zero": "Pending/SinceSentGrows",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := runBroken(t, name, caught)
			if err == nil {
				t.Fatalf("the contract passed a store with %s; want %s to fail. Its output:\n%s", name, caught, out)
			}
			if !strings.Contains(out, "--- FAIL: TestIdempotencyStoreCatchesBrokenStores/"+caught) {
				t.Fatalf("a store with %s: %s did not fail (%v). Its output:\n%s", name, caught, err, out)
			}
		})
	}
	t.Run("control", func(t *testing.T) {
		t.Parallel()
		if out, err := runBroken(t, "none", ""); err != nil {
			t.Fatalf("the memory store as it is failed the contract: %v\n%s", err, out)
		}
	})
}

// runBroken runs the contract's subtest (every one when "") on the broken
// store name in a child process.
func runBroken(t *testing.T, name, subtest string) (string, error) {
	t.Helper()
	run := "^TestIdempotencyStoreCatchesBrokenStores$"
	if subtest != "" {
		run += "/^" + regexp.QuoteMeta(subtest) + "$"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), brokenEnv+"="+name)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// brokenStores wraps a MemoryStore so that it breaks one rule of the
// contract; "none" breaks nothing.
func brokenStores() map[string]func(m *subkit.MemoryStore) subkit.IdempotencyStore {
	return map[string]func(m *subkit.MemoryStore) subkit.IdempotencyStore{
		"none":            func(m *subkit.MemoryStore) subkit.IdempotencyStore { return m },
		"two-holders":     func(m *subkit.MemoryStore) subkit.IdempotencyStore { return twoHolders{m} },
		"claim-overwrite": func(m *subkit.MemoryStore) subkit.IdempotencyStore { return claimOverwrite{m} },
		"claim-ignored":   func(m *subkit.MemoryStore) subkit.IdempotencyStore { return claimIgnored{m} },
		"lost-unreported": func(m *subkit.MemoryStore) subkit.IdempotencyStore { return lostUnreported{m} },
		"no-expiry":       func(m *subkit.MemoryStore) subkit.IdempotencyStore { return noExpiry{m} },
		"shared-bytes":    func(m *subkit.MemoryStore) subkit.IdempotencyStore { return &sharedBytes{m: m} },
		"since-sent-zero": func(m *subkit.MemoryStore) subkit.IdempotencyStore { return sinceSentZero{m} },
	}
}

// twoHolders hands out a second lock when the key is held.
type twoHolders struct{ m *subkit.MemoryStore }

func (s twoHolders) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if l, rec, err := s.m.Lock(short, key, req); err == nil {
		return l, rec, nil
	}
	return nopLock{}, nil, nil
}

type nopLock struct{}

func (nopLock) Extend(context.Context, time.Duration) error                             { return nil }
func (nopLock) Save(context.Context, *subkit.IdempotencyRecord, time.Duration) error    { return nil }
func (nopLock) Release(context.Context, *subkit.IdempotencyRecord, time.Duration) error { return nil }
func (nopLock) Unlock(context.Context) error                                            { return nil }

// claimOverwrite saves the claim over whatever record the key has.
type claimOverwrite struct{ m *subkit.MemoryStore }

func (s claimOverwrite) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	claim := req.Claim
	req.Claim = nil
	l, rec, err := s.m.Lock(ctx, key, req)
	if err == nil && claim != nil {
		err = l.Save(ctx, claim, req.ClaimTTL)
	}
	return l, rec, err
}

// claimIgnored never saves a claim.
type claimIgnored struct{ m *subkit.MemoryStore }

func (s claimIgnored) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	req.Claim = nil
	return s.m.Lock(ctx, key, req)
}

// lostUnreported swallows ErrLockLost.
type lostUnreported struct{ m *subkit.MemoryStore }

func (s lostUnreported) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	l, rec, err := s.m.Lock(ctx, key, req)
	if err != nil {
		return nil, nil, err
	}
	return swallowLost{l}, rec, nil
}

type swallowLost struct{ subkit.IdempotencyLock }

func (l swallowLost) Save(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	_ = l.IdempotencyLock.Save(ctx, rec, ttl)
	return nil
}

// noExpiry keeps every record for a day, whatever its TTL.
type noExpiry struct{ m *subkit.MemoryStore }

func (s noExpiry) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	req.ClaimTTL = 24 * time.Hour
	l, rec, err := s.m.Lock(ctx, key, req)
	if err != nil {
		return nil, nil, err
	}
	return keepForADay{l}, rec, nil
}

type keepForADay struct{ subkit.IdempotencyLock }

func (l keepForADay) Save(ctx context.Context, rec *subkit.IdempotencyRecord, _ time.Duration) error {
	return l.IdempotencyLock.Save(ctx, rec, 24*time.Hour)
}

func (l keepForADay) Release(ctx context.Context, rec *subkit.IdempotencyRecord, _ time.Duration) error {
	return l.IdempotencyLock.Release(ctx, rec, 24*time.Hour)
}

// sharedBytes hands every caller of a key the same Result bytes, the first
// it returned.
type sharedBytes struct {
	m      *subkit.MemoryStore
	mu     sync.Mutex
	result map[string][]byte
}

func (s *sharedBytes) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	l, rec, err := s.m.Lock(ctx, key, req)
	if err != nil || rec == nil {
		return l, rec, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.result == nil {
		s.result = map[string][]byte{}
	}
	if kept, ok := s.result[key]; ok { // the store's own bytes, not a copy
		rec.Result = kept
	} else {
		s.result[key] = rec.Result
	}
	return l, rec, nil
}

// sinceSentZero reports every pending record as sent just now.
type sinceSentZero struct{ m *subkit.MemoryStore }

func (s sinceSentZero) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	l, rec, err := s.m.Lock(ctx, key, req)
	if rec != nil {
		rec.SinceSent = 0
	}
	return l, rec, err
}
