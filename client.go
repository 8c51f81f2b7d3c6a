package subkit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/subkit-go/subkit/internal/transport"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

const defaultTimeout = 60 * time.Second

// Client creates subscriptions on ChatDash, Chargeflow and Polar. Make one
// with New and share it: it is safe for concurrent use, and reusing it reuses
// connections.
type Client struct {
	// Subscriptions holds the calls that create and look up subscriptions,
	// on every API.
	Subscriptions *SubscriptionsService
	// Webhooks holds Polar's webhook calls: the deliveries made to the
	// organization's endpoints, and their redelivery.
	Webhooks *WebhooksService

	apis      [numAPIs]apiConfig
	http      *http.Client
	closeIdle func() // nil when the transport is the caller's
	policy    RetryPolicy
	timeout   time.Duration
	logger    *slog.Logger
	userAgent string
	sender    transport.Sender
	store     IdempotencyStore
	lease     time.Duration // of a keyed create's lock in store
	now       func() time.Time
}

// apiConfig is where one API lives, the credential it takes and what paces it.
type apiConfig struct {
	spec    apiSpec
	base    string // scheme://host[:port][/prefix], no trailing slash
	cred    secret
	limiter Limiter // nil: not paced
	// target names where this API's requests go, for idempotency records:
	// the API, the base URL and a hash of the credential (never the
	// credential itself).
	target string
	// header is a request's header; see requestHeaders. It is behind a func
	// for the reason secret is: it carries the credential, and no printer
	// shows a func's contents.
	header func(hasBody bool) http.Header
}

// Option configures a Client in New. Make one with the With… functions.
// Options apply in order, so a later one overrides an earlier one; an invalid
// option makes New return an error. The zero Option does nothing.
type Option struct {
	apply func(*settings) error
}

// settings gathers options before New checks them as a whole.
type settings struct {
	creds      [numAPIs]secret
	bases      [numAPIs]string
	useEnv     bool
	httpClient *http.Client
	policy     RetryPolicy
	timeout    time.Duration
	logger     *slog.Logger
	product    string
	store      IdempotencyStore
	lease      time.Duration
	now        func() time.Time
	limiters   [numAPIs]Limiter
	limiterSet [numAPIs]bool // WithRateLimiter was given, nil included
}

// WithAgencyKey sets the ChatDash agency API key, sent as the raw
// "Authorization" header (no Bearer prefix). An empty key is an error.
func WithAgencyKey(key string) Option { return withCredential(ChatDash, key) }

// WithChargeflowKey sets the Chargeflow API key, sent as "x-api-key". Keys
// act on the live account: Chargeflow has no sandbox. An empty key is an error.
func WithChargeflowKey(key string) Option { return withCredential(Chargeflow, key) }

// WithOrganizationToken sets the Polar organization access token
// (polar_oat_…), sent as "Authorization: Bearer <token>". Production and
// sandbox tokens are not interchangeable: see WithPolarSandbox. An empty token
// is an error.
func WithOrganizationToken(token string) Option { return withCredential(Polar, token) }

func withCredential(api API, key string) Option {
	return Option{func(s *settings) error {
		spec, _ := specFor(api)
		if err := checkCredential(key); err != nil {
			return fmt.Errorf("%s: %w", spec.CredentialOption, err)
		}
		s.creds[spec.index] = newSecret(key)
		return nil
	}}
}

// checkCredential refuses what could not travel in a header. Its messages
// never quote the credential.
func checkCredential(key string) error {
	if strings.TrimSpace(key) == "" {
		return errors.New("the credential is empty")
	}
	if strings.TrimSpace(key) != key {
		return errors.New("the credential has leading or trailing white space")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return errors.New("the credential contains a control character")
		}
	}
	return nil
}

// WithEnv reads credentials from CHATDASH_AGENCY_KEY, CHARGEFLOW_API_KEY and
// POLAR_ACCESS_TOKEN. A credential given by an explicit option wins, whatever
// the order; unset or blank variables are ignored.
func WithEnv() Option {
	return Option{func(s *settings) error { s.useEnv = true; return nil }}
}

// WithBaseURL points an API at another server, given as
// scheme://host[:port][/prefix]; the SDK appends each documented path to it.
// The scheme must be https, except for loopback hosts (localhost, 127.0.0.0/8,
// ::1), which may use http. User info, a query or a fragment is an error.
func WithBaseURL(api API, rawURL string) Option {
	return Option{func(s *settings) error {
		spec, ok := specFor(api)
		if !ok {
			return fmt.Errorf("WithBaseURL: unknown API %q", string(api))
		}
		base, err := checkBaseURL(rawURL)
		if err != nil {
			return fmt.Errorf("WithBaseURL(%s): %w", api, err)
		}
		s.bases[spec.index] = base
		return nil
	}}
}

func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a valid URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", errors.New("the URL has no host")
	}
	if u.User != nil {
		return "", errors.New("the URL must not carry user info: use the credential options")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", errors.New("the URL must not have a query or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", errors.New("the scheme must be https (http is allowed for loopback hosts only)")
		}
	default:
		return "", fmt.Errorf("the scheme must be https, not %q", u.Scheme)
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithPolarSandbox sends Polar calls to https://sandbox-api.polar.sh. It sets
// the same thing as WithBaseURL(Polar, …): the later of the two wins.
func WithPolarSandbox() Option {
	return Option{func(s *settings) error {
		spec, _ := specFor(Polar)
		s.bases[spec.index] = spec.SandboxBaseURL
		return nil
	}}
}

// WithHTTPClient makes the SDK send through c's Transport (and honour its
// Timeout and Jar). c itself is never modified and never has
// CloseIdleConnections called on it: the SDK keeps a shallow copy whose
// redirect policy refuses to follow redirects. A nil client is an error.
//
// Without it the SDK uses its own pool: up to 100 connections per API host,
// all kept when idle, so none is opened only to be closed; a call beyond 100
// in flight to one API waits for a connection, within its context.
func WithHTTPClient(c *http.Client) Option {
	return Option{func(s *settings) error {
		if c == nil {
			return errors.New("WithHTTPClient: the client is nil")
		}
		s.httpClient = c
		return nil
	}}
}

// WithRetryPolicy replaces the retry policy. Zero fields take their defaults;
// negative ones make New fail.
func WithRetryPolicy(p RetryPolicy) Option {
	return Option{func(s *settings) error {
		full, err := p.withDefaults()
		if err != nil {
			return fmt.Errorf("WithRetryPolicy: %w", err)
		}
		s.policy = full
		return nil
	}}
}

// WithTimeout bounds a whole call: every attempt, every wait between attempts.
// The default is 60s; 0 means no bound but the context's. Negative is an error.
func WithTimeout(d time.Duration) Option {
	return Option{func(s *settings) error {
		if d < 0 {
			return errors.New("WithTimeout: the duration is negative")
		}
		s.timeout = d
		return nil
	}}
}

// WithLogger makes the SDK log one Debug line per attempt and one Warn line
// per retry. Lines carry the API, method, path, status, attempt, duration and
// request ID, never headers or bodies. nil (the default) logs nothing.
func WithLogger(l *slog.Logger) Option {
	return Option{func(s *settings) error { s.logger = l; return nil }}
}

// WithUserAgent puts product (such as "billing-svc/1.4") in front of the
// SDK's own "subkit-go/<version>" in the User-Agent header.
func WithUserAgent(product string) Option {
	return Option{func(s *settings) error {
		for _, r := range product {
			if r < 0x20 || r == 0x7f {
				return errors.New("WithUserAgent: the product contains a control character")
			}
		}
		s.product = strings.TrimSpace(product)
		return nil
	}}
}

// WithIdempotencyStore makes keyed creates (WithIdempotencyKey) take their
// key in s and record their result there, so that calls with one key never
// run their creates at the same time and a later call replays the recorded
// result. By default every Client of the process shares one MemoryStore (so
// two Clients of one process never create one key twice; records carry
// their target, so Clients of different targets never replay each other's
// creates); give every Client of a fleet one shared store
// (subkitredis.NewStore, subkitsql.NewStore) to make the guarantee hold
// across processes. A Client given a store uses only that one. A nil store
// is an error.
func WithIdempotencyStore(s IdempotencyStore) Option {
	return Option{func(st *settings) error {
		if s == nil {
			return errors.New("WithIdempotencyStore: the store is nil (the default is the process's MemoryStore)")
		}
		st.store = s
		return nil
	}}
}

// WithClock gives the client the clock it measures its own waits with:
// how long since a create was sent, how much of a lease is left. It is for
// tests (a fleet of clients whose clocks disagree, a skewed process): the
// SDK never compares one process's clock with another's — what it compares
// across processes it reads from the store's clock — so a clock that is
// off by a constant changes nothing. now must move forward as real time
// does (time.Now plus an offset); a nil now is an error. The default is
// time.Now, whose monotonic reading ignores steps of the wall clock.
func WithClock(now func() time.Time) Option {
	return Option{func(s *settings) error {
		if now == nil {
			return errors.New("WithClock: the clock is nil")
		}
		s.now = now
		return nil
	}}
}

// WithIdempotencyLease sets how long a keyed create's lock in the
// idempotency store lasts unless the SDK extends it (it does, every third of
// d, while the call runs): a process that dies holding a key blocks the key
// for at most d. Default DefaultLockLease; it must be positive.
func WithIdempotencyLease(d time.Duration) Option {
	return Option{func(s *settings) error {
		if d <= 0 {
			return errors.New("WithIdempotencyLease: the lease must be positive")
		}
		s.lease = d
		return nil
	}}
}

// WithRateLimiter makes every request to api — creates, look-ups, and each
// retry — wait on l first; a nil l turns pacing off. By
// default Polar's own servers are paced to their published limit
// (PolarRateLimit a minute in production, PolarSandboxRateLimit in the
// sandbox) by a NewLimiter of the Client's own, so that one Client never
// draws Polar's 429; a base URL on another host (a fake, a proxy) and the
// other APIs are not paced unless asked. Clients that share an API's budget
// (several in one process, or a fleet: subkitredis.NewLimiter) must share
// one Limiter.
func WithRateLimiter(api API, l Limiter) Option {
	return Option{func(s *settings) error {
		spec, ok := specFor(api)
		if !ok {
			return fmt.Errorf("WithRateLimiter: unknown API %q", string(api))
		}
		if v := reflect.ValueOf(l); v.Kind() == reflect.Pointer && v.IsNil() {
			l = nil // a typed nil, such as (*rate.Limiter)(nil), turns pacing off too
		}
		s.limiters[spec.index], s.limiterSet[spec.index] = l, true
		return nil
	}}
}

// New makes a Client. It needs at least one credential (WithAgencyKey,
// WithChargeflowKey, WithOrganizationToken or WithEnv); a call to an API
// without one fails with ErrMissingCredential before anything is sent. New
// returns an error, never panics, on an invalid option.
func New(opts ...Option) (*Client, error) {
	s := settings{policy: DefaultRetryPolicy(), timeout: defaultTimeout, lease: DefaultLockLease, now: time.Now}
	var errs []error
	for _, opt := range opts {
		if opt.apply == nil {
			continue
		}
		if err := opt.apply(&s); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("subkit: %w", errors.Join(errs...))
	}

	c := &Client{policy: s.policy, timeout: s.timeout, logger: s.logger, store: s.store, lease: s.lease, now: s.now}
	if c.store == nil {
		c.store = defaultStore()
	}
	c.Subscriptions = &SubscriptionsService{client: c}
	c.Webhooks = &WebhooksService{client: c}
	c.userAgent = "subkit-go/" + Version
	if s.product != "" {
		c.userAgent = s.product + " " + c.userAgent
	}
	configured := 0
	for _, api := range allAPIs() {
		spec, _ := specFor(api)
		cfg := apiConfig{spec: spec, base: spec.BaseURL, cred: s.creds[spec.index]}
		if s.bases[spec.index] != "" {
			cfg.base = s.bases[spec.index]
		}
		if !cfg.cred.isSet() && s.useEnv {
			if v := strings.TrimSpace(os.Getenv(spec.EnvVar)); v != "" {
				if err := checkCredential(v); err != nil {
					return nil, fmt.Errorf("subkit: WithEnv: %s: %w", spec.EnvVar, err)
				}
				cfg.cred = newSecret(v)
			}
		}
		if cfg.cred.isSet() {
			configured++
		}
		cfg.limiter = defaultLimiter(api, cfg.base)
		cfg.target = targetOf(api, cfg.base, cfg.cred)
		cfg.header = requestHeaders(spec, c.userAgent, cfg.cred, s.httpClient == nil)
		if s.limiterSet[spec.index] {
			cfg.limiter = s.limiters[spec.index]
		}
		c.apis[spec.index] = cfg
	}
	if configured == 0 {
		return nil, fmt.Errorf("subkit: no credential: use WithAgencyKey, WithChargeflowKey, WithOrganizationToken or WithEnv: %w", ErrMissingCredential)
	}
	c.http, c.closeIdle = transport.NewHTTPClient(s.httpClient, c.policy.AttemptTimeout, 100*numAPIs, 100)
	c.sender = transport.Sender{HTTP: c.http, Logger: c.logger, MaxBody: maxResponseBody}
	return c, nil
}

// RetryPolicy returns the client's retry policy, every default filled in:
// for code that must agree with it, such as a batch that waits
// RetryPolicy().SettleTime before trusting a look-up.
func (c *Client) RetryPolicy() RetryPolicy { return c.policy }

// CloseIdleConnections closes the idle connections of the SDK's own default
// transport. It does nothing to a client given with WithHTTPClient, which
// belongs to the caller.
func (c *Client) CloseIdleConnections() {
	if c.closeIdle != nil {
		c.closeIdle()
	}
}

// String describes the client without any credential.
func (c *Client) String() string {
	if c == nil {
		return "subkit.Client(nil)"
	}
	var b strings.Builder
	b.WriteString("subkit.Client{")
	for i, api := range allAPIs() {
		if i > 0 {
			b.WriteString(", ")
		}
		cfg := c.apis[i]
		cred := "no credential"
		if cfg.cred.isSet() {
			cred = "credential " + transport.Redacted
		}
		fmt.Fprintf(&b, "%s: %s (%s)", api, cfg.base, cred)
	}
	b.WriteString("}")
	return b.String()
}

// Format prints String for every verb and flag. It has a value receiver so
// that a Client copied by value (fmt.Sprint(*c)) is covered too: fmt would
// otherwise walk the unexported fields, credentials included.
func (c Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue logs the client as its String.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c *Client) api(api API) *apiConfig {
	for i := range c.apis {
		if c.apis[i].spec.API == api {
			return &c.apis[i]
		}
	}
	return nil
}

// targetOf names where api's requests go, for idempotency records (a record
// of another target never replays): the API, the base URL and the first
// 16 hex digits of a SHA-256 of the credential — enough to tell two
// credentials apart, nothing to recover one from.
func targetOf(api API, base string, cred secret) string {
	sum := sha256.Sum256([]byte("subkit target\x00" + cred.reveal()))
	return string(api) + " " + base + " cred:" + hex.EncodeToString(sum[:8])
}

// requestHeaders makes, once, the two headers of a request to the API —
// without a body and with one: Accept, User-Agent, the version header,
// Content-Type with a body, and the credential when one is set — and returns
// the function that picks one. With the SDK's own transport (owned) every
// request shares them: nothing below do writes to a request's header
// (net/http's transport and go-retryablehttp only read it), and building a
// map per call was a measurable share of a small create's client work
// (BENCHMARKS.md). A caller's client gets a copy per request, since its
// transport might add a header in place.
func requestHeaders(spec apiSpec, userAgent string, cred secret, owned bool) func(hasBody bool) http.Header {
	var hs [2]http.Header
	for i := range hs {
		h := http.Header{}
		h.Set("Accept", "application/json")
		h.Set("User-Agent", userAgent)
		if i == 1 {
			h.Set("Content-Type", "application/json")
		}
		if spec.versionHeader != "" {
			h.Set(spec.versionHeader, spec.version)
		}
		if cred.isSet() {
			h.Set(spec.CredentialHeader, spec.CredentialPrefix+cred.reveal())
		}
		hs[i] = h
	}
	return func(hasBody bool) http.Header {
		h := hs[0]
		if hasBody {
			h = hs[1]
		}
		if !owned {
			h = h.Clone()
		}
		return h
	}
}
