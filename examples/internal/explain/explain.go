// Package explain prints what subkit's answers mean to the caller: what to
// do next comes from subkit.Classify, the details from errors.As and the
// ResponseInfo a call fills. The per-API examples share it.
package explain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/subkit-go/subkit"
)

// words are what differs between the APIs in the explanation.
type words struct {
	// credential names the credential, e.g. "agency key (CHATDASH_AGENCY_KEY)".
	credential string
	// refused explains a 401 or 403, e.g. "the agency key was refused".
	refused string
	// mayExist ends the outcome-unknown line, e.g. "the schedule may exist".
	mayExist string
	// advice is printed after it: what to do instead of retrying.
	advice []string
	// nothing is what a definite failure did, e.g. "nothing was created".
	nothing string
}

func wordsFor(api subkit.API) words {
	switch api {
	case subkit.ChatDash:
		return words{credential: "agency key (CHATDASH_AGENCY_KEY)", refused: "the agency key was refused",
			mayExist: "the schedule may exist",
			advice:   []string{"Do not simply retry: a second create makes a second schedule. Look first (below)."},
			nothing:  "nothing was created"}
	case subkit.Chargeflow:
		return words{credential: "API key (CHARGEFLOW_API_KEY)", refused: "the API key was refused",
			mayExist: "the subscription may have been recorded",
			advice:   []string{"Do not simply retry: look it up first (below)."},
			nothing:  "nothing was recorded"}
	default:
		return words{credential: "access token (POLAR_ACCESS_TOKEN)",
			refused:  "the token was refused (a sandbox token on production, or the reverse?)",
			mayExist: "the subscription may exist",
			advice: []string{"Do not simply retry: look it up first (below). subkit.WithIdempotencyKey",
				"makes the SDK do that by itself."},
			nothing: "nothing was created"}
	}
}

// Error prints err from a call to api, what it means, what to do next
// (subkit.Classify), and the call as info (filled by subkit.WithResponseInfo)
// tells it.
func Error(w io.Writer, api subkit.API, err error, info subkit.ResponseInfo) {
	say := wordsFor(api)
	class := subkit.Classify(err)
	fmt.Fprintf(w, "error:    %v\n", err)
	var verr *subkit.ValidationError
	var apiErr *subkit.APIError
	hasAPIErr := errors.As(err, &apiErr)
	switch class.Action {
	case subkit.ActionLookUp:
		why := "the connection broke after the request was sent"
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			why = "the deadline passed after the request was sent"
		case errors.Is(err, subkit.ErrServer):
			why = fmt.Sprintf("the server answered %d", apiErr.StatusCode)
		case hasAPIErr:
			why = fmt.Sprintf("the server answered %d but its body could not be read", apiErr.StatusCode)
		}
		fmt.Fprintf(w, "meaning:  OUTCOME UNKNOWN: %s, so %s.\n", why, say.mayExist)
		for _, line := range say.advice {
			fmt.Fprintln(w, "          "+line)
		}
	case subkit.ActionRetryLater:
		if errors.Is(err, subkit.ErrRateLimited) {
			fmt.Fprintf(w, "meaning:  rate limited after %d attempt(s); %s. Try again in %s.\n",
				apiErr.Attempts, say.nothing, class.RetryAfter)
		} else {
			fmt.Fprintf(w, "meaning:  %s; %s. Try again later.\n", class.Reason, say.nothing)
		}
	case subkit.ActionRetry:
		fmt.Fprintln(w, "meaning:  the request was never sent (the connection could not be made): safe to retry")
	default: // subkit.ActionFix
		switch {
		case errors.As(err, &verr):
			fmt.Fprintln(w, "meaning:  invalid parameters; nothing was sent. Every problem, by its wire path:")
			for _, f := range verr.Fields {
				fmt.Fprintf(w, "            %s: %s\n", f.Field, f.Message)
			}
		case errors.Is(err, subkit.ErrMissingCredential):
			fmt.Fprintf(w, "meaning:  no %s configured; nothing was sent\n", say.credential)
		case errors.Is(err, subkit.ErrUnauthorized), errors.Is(err, subkit.ErrForbidden):
			fmt.Fprintf(w, "meaning:  %s; %s\n", say.refused, say.nothing)
		case errors.Is(err, subkit.ErrNotFound):
			fmt.Fprintf(w, "meaning:  not found (%s); %s\n", apiErr.Message, say.nothing)
		case errors.Is(err, subkit.ErrRejected):
			fmt.Fprintf(w, "meaning:  refused as sent (%s); %s: fix the request\n", apiErr.Message, say.nothing)
			for _, f := range apiErr.Fields {
				fmt.Fprintf(w, "            %s: %s (%s)\n", f.Field, f.Message, f.Code)
			}
		case hasAPIErr:
			fmt.Fprintf(w, "meaning:  unexpected answer %d\n", apiErr.StatusCode)
		default:
			fmt.Fprintf(w, "meaning:  %s; %s\n", class.Reason, say.nothing)
		}
	}
	fmt.Fprintf(w, "next:     %s (a service would answer its own client %d)\n", class.Action, class.HTTPStatus)
	if hasAPIErr {
		fmt.Fprintf(w, "APIError: status %d, code %q, message %q, request ID %q, attempts %d\n",
			apiErr.StatusCode, apiErr.Code, apiErr.Message, apiErr.RequestID, apiErr.Attempts)
	}
	Call(w, info)
}

// Call prints what info (filled by subkit.WithResponseInfo) says of a call:
// the status and request ID of the answer, the attempts, and for a create
// that returned a subscription its outcome.
func Call(w io.Writer, info subkit.ResponseInfo) {
	fmt.Fprintf(w, "call:     HTTP %d, request ID %q, %d attempt(s)", info.StatusCode, info.RequestID, info.Attempts)
	if info.Outcome != "" {
		fmt.Fprintf(w, ", outcome %s", info.Outcome)
	}
	fmt.Fprintln(w)
}

// LookUpFailed prints that the look-up made after ErrOutcomeUnknown failed
// too, with its error.
func LookUpFailed(w io.Writer, err error) {
	fmt.Fprintf(w, "look-up:  failed too (%v): the outcome stays unknown; look again later\n", err)
}

// NotCreated prints the verdict of a look-up, made after ErrOutcomeUnknown,
// that found nothing; how says how it looked.
func NotCreated(w io.Writer, how string) {
	fmt.Fprintf(w, "look-up:  %s finds nothing:\n", how)
	fmt.Fprintln(w, "          the create did not happen (if the server may still be working on it, look again")
	fmt.Fprintln(w, "          a little later before sending it again)")
}

// Date prints the day of t, "-" when it is nil (not set).
func Date(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}
