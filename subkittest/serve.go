package subkittest

import (
	"net/http"
	"slices"
)

// WithoutListener makes NewServer start no listener of its own: the Server
// is an http.Handler, and the caller serves it where it wants — on a port
// of its choosing, behind routes of its own, with its own shutdown — as the
// command subkit fake does. URL is then "" and Client cannot be used: give
// the client subkit.WithBaseURL with the address the caller serves on.
// Close still ends delayed answers (Delay, CommitLate) at once.
func WithoutListener() ServerOption {
	return func(s *Server) { s.detached = true }
}

// ServeHTTP answers r as the fake API its path belongs to (see
// Request.API), exactly as the server's own listener does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serveHTTP(w, r) }

// WithRequestLog bounds how many requests Requests remembers: about the
// last n (between n and 2n), so that a server that runs for long — a shared
// fake serving many runs — does not grow without end. By default every
// request is kept. It changes nothing else: what the server holds, the
// rate limits and the faults do not depend on the log. n < 1 keeps every
// request.
func WithRequestLog(n int) ServerOption {
	return func(s *Server) { s.keepRequests = max(n, 0) }
}

// trimRequests drops the oldest requests once the log holds twice its
// bound, so that trimming costs O(1) a request on average. It runs with
// the lock held.
func (s *Server) trimRequests() {
	if n := s.keepRequests; n > 0 && len(s.requests) >= 2*n {
		s.requests = slices.Delete(s.requests, 0, len(s.requests)-n)
	}
}
