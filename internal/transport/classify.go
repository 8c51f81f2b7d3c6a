package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http/httptrace"
	"sync/atomic"
	"syscall"
)

// progress records how far one attempt got on the wire. Its flags are set by
// httptrace callbacks, which may run on the transport's own goroutines.
type progress struct {
	// gettingConn: the transport asked for a connection (GetConn), so it
	// reports its progress; no request is written before a connection is
	// got, and none is complete before WroteHeaders.
	gettingConn  atomic.Bool
	gotConn      atomic.Bool
	wroteHeaders atomic.Bool
}

func (p *progress) reset() {
	p.gettingConn.Store(false)
	p.gotConn.Store(false)
	p.wroteHeaders.Store(false)
}

func (p *progress) trace() httptrace.ClientTrace {
	// No DNSStart, ConnectStart or TLSHandshakeStart: GetConn comes before
	// any of them, and those net-level hooks would make httptrace build a
	// second trace (and context value) for every call.
	return httptrace.ClientTrace{
		// A dialer of the caller's (WithHTTPClient with a custom
		// DialContext, a proxy dialer) reports no DNS or connect events:
		// GetConn is what shows the attempt stopped before it had a
		// connection.
		GetConn:      func(string) { p.gettingConn.Store(true) },
		GotConn:      func(httptrace.GotConnInfo) { p.gotConn.Store(true) },
		WroteHeaders: func() { p.wroteHeaders.Store(true) },
	}
}

// notSent reports whether a failed attempt provably never reached the server.
// Anything it cannot prove counts as sent: the safe side for a create.
func (p *progress) notSent(err error) bool {
	if p.wroteHeaders.Load() {
		return false
	}
	// The trace saw the attempt stop before the request was written.
	if p.gettingConn.Load() || p.gotConn.Load() {
		return true
	}
	// No trace (a transport that does not report it): trust only errors that
	// can only happen while connecting.
	return isConnectError(err)
}

func isConnectError(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var (
		recErr  tls.RecordHeaderError
		verErr  *tls.CertificateVerificationError
		authErr x509.UnknownAuthorityError
		hostErr x509.HostnameError
		certErr x509.CertificateInvalidError
	)
	return errors.As(err, &recErr) || errors.As(err, &verErr) || errors.As(err, &authErr) ||
		errors.As(err, &hostErr) || errors.As(err, &certErr)
}
