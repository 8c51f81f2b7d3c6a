// Package explain prints what an error from subkit means to the caller,
// using only errors.Is and errors.As: the SDK's whole error model. The
// per-API examples share it, each with its own words.
package explain

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/subkit-go/subkit"
)

// Words are what differs between the APIs in the explanation.
type Words struct {
	// Credential names the credential, e.g. "agency key (CHATDASH_AGENCY_KEY)".
	Credential string
	// Refused explains a 401 or 403, e.g. "the agency key was refused".
	Refused string
	// MayExist ends the outcome-unknown line, e.g. "the schedule may exist".
	MayExist string
	// Advice is printed after it: what to do instead of retrying.
	Advice []string
	// Nothing is what a definite failure did, e.g. "nothing was created".
	Nothing string
}

// Error prints err and its meaning to w.
func Error(w io.Writer, err error, words Words) {
	fmt.Fprintf(w, "error:    %v\n", err)
	var verr *subkit.ValidationError
	var apiErr *subkit.APIError
	hasAPIErr := errors.As(err, &apiErr)
	switch {
	case errors.As(err, &verr):
		fmt.Fprintln(w, "meaning:  invalid parameters; nothing was sent. Every problem, by its wire path:")
		for _, f := range verr.Fields {
			fmt.Fprintf(w, "            %s: %s\n", f.Field, f.Message)
		}
	case errors.Is(err, subkit.ErrMissingCredential):
		fmt.Fprintf(w, "meaning:  no %s configured; nothing was sent\n", words.Credential)
	case errors.Is(err, subkit.ErrOutcomeUnknown):
		why := "the connection broke after the request was sent"
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			why = "the deadline passed after the request was sent"
		case errors.Is(err, subkit.ErrServer):
			why = fmt.Sprintf("the server answered %d", apiErr.StatusCode)
		case hasAPIErr:
			why = fmt.Sprintf("the server answered %d but its body could not be read", apiErr.StatusCode)
		}
		fmt.Fprintf(w, "meaning:  OUTCOME UNKNOWN: %s, so %s.\n", why, words.MayExist)
		for _, line := range words.Advice {
			fmt.Fprintln(w, "          "+line)
		}
	case errors.Is(err, subkit.ErrRateLimited):
		fmt.Fprintf(w, "meaning:  rate limited after %d attempt(s); %s. Try again in %s.\n",
			apiErr.Attempts, words.Nothing, apiErr.RetryAfter)
	case errors.Is(err, subkit.ErrUnauthorized), errors.Is(err, subkit.ErrForbidden):
		fmt.Fprintf(w, "meaning:  %s; %s\n", words.Refused, words.Nothing)
	case errors.Is(err, subkit.ErrNotFound):
		fmt.Fprintf(w, "meaning:  not found (%s); %s\n", apiErr.Message, words.Nothing)
	case errors.Is(err, subkit.ErrRejected):
		fmt.Fprintf(w, "meaning:  refused as sent (%s); %s: fix the request\n", apiErr.Message, words.Nothing)
		for _, f := range apiErr.Fields {
			fmt.Fprintf(w, "            %s: %s (%s)\n", f.Field, f.Message, f.Code)
		}
	case hasAPIErr:
		fmt.Fprintf(w, "meaning:  unexpected answer %d\n", apiErr.StatusCode)
	default:
		fmt.Fprintln(w, "meaning:  the request was never sent (the connection could not be made): safe to retry")
	}
	if hasAPIErr {
		fmt.Fprintf(w, "APIError: status %d, code %q, message %q, request ID %q, attempts %d\n",
			apiErr.StatusCode, apiErr.Code, apiErr.Message, apiErr.RequestID, apiErr.Attempts)
	}
}
