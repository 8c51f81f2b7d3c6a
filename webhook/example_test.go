package webhook_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// A receiver on the fake Polar: a create's three events reach the handler
// once each, in order, carrying the subscription the create returned.
func ExampleReceiver_Handler() {
	secret := subkittest.NewPolarWebhookSecret()
	rcv, err := webhook.NewPolarReceiver([]string{secret})
	if err != nil {
		fmt.Println(err)
		return
	}
	var mu sync.Mutex
	var got []string
	h := rcv.Handler(func(_ context.Context, ev *webhook.Event) error {
		sub, err := ev.Subscription()
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%s %s", ev.Type, sub.Status))
		return nil
	}, webhook.WithDedupe(subkit.NewMemoryStore()))
	receiver := httptest.NewServer(h)
	defer receiver.Close()

	srv := subkittest.NewServer(subkittest.WithPolarWebhook(subkittest.PolarWebhook{URL: receiver.URL, Secret: secret}))
	defer srv.Close()
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.CloseIdleConnections()
	if _, err := client.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer}); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.WaitPolarWebhooks(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range got {
		fmt.Println(line)
	}
	// Output:
	// subscription.created active
	// subscription.active active
	// subscription.updated active
}

// While a secret is rotated, the receiver holds the new one and the old.
func ExampleNewPolarReceiver() {
	rcv, err := webhook.NewPolarReceiver([]string{
		"whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=", // new: signed the standard way
		"whsec_Kq7ZpR2mXv9LbN4tHc6WsYd1Fg8Ju3Qe5Ao0T1xQ9zA",  // old: made before 2026-09-08
	})
	fmt.Println(rcv, err)
	// Output: webhook.Receiver{keys: 3, tolerance: 5m0s, max body: 1048576 bytes} <nil>
}
