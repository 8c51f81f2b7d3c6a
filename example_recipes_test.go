package subkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The README's recipes: each is the body of a function here, so that `go
// test` compiles and runs what the README shows (TestReadmeSnippetsCompile
// checks that every Go block of the README is found in a test file).

// signupHandler is POST /signup: it subscribes the signed-up user to the free
// plan, exactly once however often the user's client retries.
func signupHandler(client *subkit.Client, freePlan string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		userID := r.FormValue("user_id")
		// The client's own idempotency key: its retries of this request carry
		// the same one, so they replay the first create instead of making a
		// second. Scope it to the user, so that two clients' keys never meet.
		key := r.Header.Get("Idempotency-Key")
		if userID == "" || key == "" {
			http.Error(w, "user_id and an Idempotency-Key header are required", http.StatusBadRequest)
			return
		}
		// A client that hangs up cancels r.Context(), and a create cancelled
		// after it was sent ends ErrOutcomeUnknown. Let the create finish on
		// its own clock instead.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
		defer cancel()

		var info subkit.ResponseInfo
		sub, err := client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
			ProductID:          freePlan,
			ExternalCustomerID: userID,
		}, subkit.WithIdempotencyKey("signup:"+userID+":"+key), subkit.WithResponseInfo(&info))
		if err != nil {
			class := subkit.Classify(err)
			if class.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(class.RetryAfter.Seconds())))
			}
			http.Error(w, class.Reason, class.HTTPStatus)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"subscription_id": sub.ID, "outcome": string(info.Outcome)})
	}
}

// Example_httpHandler: a signup handler whose client retries. The second
// request with the same Idempotency-Key replays the first create.
func Example_httpHandler() {
	srv := subkittest.NewServer()
	defer srv.Close()
	plan := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Free"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1337"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	handler := signupHandler(client, plan)
	post := func(user, key string) {
		r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(url.Values{"user_id": {user}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		handler(w, r)
		var body struct{ Outcome string }
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", body.Outcome)))
	}
	post("usr_1337", "c1f3")
	post("usr_1337", "c1f3") // the client retried: same key
	post("usr_404", "9ab0")  // not a Polar customer
	fmt.Println("subscriptions:", len(srv.PolarSubscriptions()))
	// Output:
	// 201 created
	// 201 replayed
	// 422
	// subscriptions: 1
}

// job is one message of a work queue.
type job struct {
	ID        string
	DisputeID string
	Params    *subkit.DisputeSubscriptionParams
}

// errRedeliver asks the queue to deliver the job again after a delay.
type errRedeliver struct{ after time.Duration }

func (e errRedeliver) Error() string { return "redeliver after " + e.after.String() }

// handleJob records the subscription behind a dispute, exactly once however
// often the queue delivers the job: the key is the job's ID.
func handleJob(ctx context.Context, client *subkit.Client, j job) error {
	_, err := client.Subscriptions.CreateForDispute(ctx, j.DisputeID, j.Params, subkit.WithIdempotencyKey("job:"+j.ID))
	switch class := subkit.Classify(err); class.Action {
	case subkit.ActionNone:
		return nil // acknowledge the job
	case subkit.ActionFix:
		return fmt.Errorf("job %s cannot succeed as it is: %w", j.ID, err) // dead-letter it
	default:
		// Retry, retry later, or look up: delivering the job again is all
		// three, because the same key replays a create that happened.
		return errRedeliver{after: max(class.RetryAfter, 5*time.Second)}
	}
}

// Example_jobWorker: a worker that dies while its create's outcome is
// unknown; the queue delivers the job again, and the key finds the create.
func Example_jobWorker() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: "65f0c1d2e3a4b5c6d7e8f901"})
	client, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{SettleTime: 200 * time.Millisecond}))
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	j := job{ID: "8841", DisputeID: "65f0c1d2e3a4b5c6d7e8f901", Params: &subkit.DisputeSubscriptionParams{
		SourceID: "sub_1PqRsTuVwXyZ", CreatedAt: start, StartDate: start, Frequency: subkit.FrequencyMonth, FrequencyCount: 1}}

	// The first delivery: the create is applied but its response is lost,
	// and the worker's deadline ends before the look-up could tell.
	srv.InjectFault(subkit.Chargeflow, 1, subkittest.RespondAfterHandling(502, `{"message":"Bad Gateway"}`).On(subkittest.OpCreate))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	err = handleJob(ctx, client, j)
	cancel()
	var again errRedeliver
	fmt.Println("first delivery, redeliver:", errors.As(err, &again))

	// The queue delivers it again: the same key finds what the first made.
	fmt.Println("second delivery:", handleJob(context.Background(), client, j))
	fmt.Println("subscriptions:", len(srv.ChargeflowSubscriptions()))
	// Output:
	// first delivery, redeliver: true
	// second delivery: <nil>
	// subscriptions: 1
}
