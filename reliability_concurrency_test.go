package subkit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// TestOneClientManyGoroutines shares one client between 64 goroutines making
// 100 creates each, the four creates mixed, against the fakes (run it with
// -race): every call succeeds, and the server holds exactly one subscription
// per call, each the one its call returned.
func TestOneClientManyGoroutines(t *testing.T) {
	const goroutines, perGoroutine = 64, 100
	srv := subkittest.NewServer(subkittest.WithImplicitResources())
	defer srv.Close()
	c, err := srv.Client(subkit.WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()

	ctx := context.Background()
	ids := make([][]string, goroutines)
	errs := make(chan error, goroutines*perGoroutine)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perGoroutine {
				n := g*perGoroutine + i
				id, err := concurrentCreate(ctx, c, n)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d, call %d: %w", g, i, err)
					continue
				}
				ids[g] = append(ids[g], id)
			}
		}()
	}
	wg.Wait()
	close(errs)
	elapsed := time.Since(start)
	for err := range errs {
		t.Error(err)
	}

	held := map[string]bool{}
	perAPI := map[subkit.API]int{}
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
		for _, id := range itHeldIDs(srv, api) {
			held[id] = true
			perAPI[api]++
		}
	}
	returned := 0
	for _, list := range ids {
		for _, id := range list {
			returned++
			if !held[id] {
				t.Errorf("the server does not hold %s, which a call returned", id)
			}
		}
	}
	t.Logf("%d calls from %d goroutines in %v: server holds %d (%v), calls returned %d",
		goroutines*perGoroutine, goroutines, elapsed.Round(time.Millisecond), len(held), perAPI, returned)
	if len(held) != goroutines*perGoroutine || returned != goroutines*perGoroutine {
		t.Errorf("server holds %d subscriptions and calls returned %d, want %d of each", len(held), returned, goroutines*perGoroutine)
	}
}

// concurrentCreate is call n of the mix: ChatDash, Chargeflow (a dispute of
// its own, since a dispute holds one subscription), Polar by customer ID,
// Polar by external customer ID.
func concurrentCreate(ctx context.Context, c *subkit.Client, n int) (string, error) {
	switch n % 4 {
	case 0:
		s, err := c.Subscriptions.CreateConnect(ctx, chatdashAccount, fullConnectParams())
		if err != nil {
			return "", err
		}
		return s.ID, nil
	case 1:
		s, err := c.Subscriptions.CreateForDispute(ctx, fmt.Sprintf("c0c0%020x", n), minimalDisputeParams())
		if err != nil {
			return "", err
		}
		return s.ID, nil
	case 2:
		s, err := c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
			ProductID: productID, CustomerID: customerID, Metadata: subkit.Metadata{"n": n}})
		if err != nil {
			return "", err
		}
		return s.ID, nil
	default:
		s, err := c.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
			ProductID: productID, ExternalCustomerID: fmt.Sprintf("usr_%d", n)})
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}
}
