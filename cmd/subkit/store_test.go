package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/internal/redistest"
)

// password is the Redis password of these tests, which they look for in
// everything the command writes.
const password = "s3cret-Pass/w0rd!"

// A Redis that needs a password, given as a URL on the command line and
// through SUBKIT_REDIS_URL: a paced run whose turns lie beyond -timeout
// waits for them (the Redis limiter lets a burst through, then the next
// slot is a window away), and no output ever holds the password — not with
// the right one, a wrong one, a dead address or a malformed URL.
func TestBulkRedisURLWithAPassword(t *testing.T) {
	t.Parallel()
	rdb := redistest.NewServer(t, redistest.WithPassword(password))
	fake := startFake(t, "", "-implicit")
	input, args := users(t, 30)
	dir := t.TempDir()
	escaped := strings.ReplaceAll(password, "/", "%2F") // as a URL's user info must have it
	url := "redis://:" + escaped + "@" + rdb.Addr() + "/0"

	check := func(name string, res invocation, files ...string) {
		t.Helper()
		all := res.stdout + res.stderr
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err == nil {
				all += string(b)
			}
		}
		for _, form := range []string{password, strings.ReplaceAll(password, "/", "%2F")} {
			assert.NotContains(t, all, form, "%s: the password is in the output", name)
		}
		assert.NotRegexp(t, `(?m)^redis: \d{4}/`, res.stderr, "%s: go-redis's own log", name)
	}

	report, summary := filepath.Join(dir, "report.jsonl"), filepath.Join(dir, "summary.json")
	res := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, "-redis", url, "-rate", "polar=10/1s",
		"-timeout", "500ms", "-report", report, "-summary", summary, input}, args...)...)
	check("the right password", res, report, summary)
	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.Contains(t, res.stderr, "sharing the idempotency store and the rate budget through Redis at "+rdb.Addr())
	lines, _ := readReportFile(t, report)
	for _, l := range lines {
		assert.Equal(t, "created", l.Outcome, "line %d: %s", l.Line, l.Error)
	}

	res = runCommand(t, append(noCredentials(), redisURLVar+"="+url), append([]string{"bulk", "-base-url", fake.url, input}, args...)...)
	check("from the environment", res)
	require.Equal(t, exitOK, res.exit, res.stderr)
	for _, l := range readReport(t, res.stdout) {
		assert.Equal(t, "replayed", l.Outcome, "line %d", l.Line)
	}

	for name, tc := range map[string]struct{ url, want string }{
		"a wrong password":   {"redis://:not-" + escaped + "@" + rdb.Addr(), "does not answer: WRONGPASS"},
		"a dead address":     {"redis://:" + escaped + "@127.0.0.1:1/0", "-redis: Redis at 127.0.0.1:1 does not answer"},
		"a malformed URL":    {"redis://:" + escaped + "@127.0.0.1:port/0", "-redis: not a URL"},
		"an unescaped slash": {"redis://:" + password + "@" + rdb.Addr() + "/0", "-redis: not a URL"},
		"a bad database":     {"redis://:" + escaped + "@" + rdb.Addr() + "/zero", "redis://:xxxxx@" + rdb.Addr() + "/zero: redis: invalid database number"},
		"not a URL or addr":  {password, "-redis: want a URL"},
	} {
		res := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, "-redis", tc.url, input}, args...)...)
		check(name, res)
		assert.Equal(t, exitUsage, res.exit, "%s: %s", name, res.stderr)
		assert.Contains(t, res.stderr, tc.want, name)
		assert.Equal(t, 1, strings.Count(res.stderr, "\n"), "%s: one line: %s", name, res.stderr)
	}
}

// rediss://: TLS to a Redis that presents a certificate of a CA the process
// trusts (SSL_CERT_FILE), with a password.
func TestBulkRedisOverTLS(t *testing.T) {
	t.Parallel()
	addr, caFile := startTLSRedis(t)
	fake := startFake(t, "", "-implicit")
	input, args := users(t, 10)
	env := append(noCredentials(), "SSL_CERT_FILE="+caFile)

	url := "rediss://:" + strings.ReplaceAll(password, "/", "%2F") + "@" + addr + "/0"
	res := runCommand(t, env, append([]string{"bulk", "-base-url", fake.url, "-redis", url, input}, args...)...)

	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.NotContains(t, res.stdout+res.stderr, password)
	assert.Contains(t, res.stderr, "through Redis at "+addr)
	assert.Len(t, fake.keysHeld(), 10)

	// Without the CA the certificate is refused: said, no password shown.
	res = runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, "-redis", url, input}, args...)...)
	assert.Equal(t, exitUsage, res.exit)
	assert.Contains(t, res.stderr, "certificate")
	assert.NotContains(t, res.stdout+res.stderr, password)
}

// startTLSRedis starts a redis-server that listens only with TLS, on a
// free loopback port, requiring the password; it returns its address and
// the file of the CA that signed its certificate.
func startTLSRedis(t *testing.T) (string, string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(redistest.RequireEnv) == "1" {
			t.Fatalf("redis-server is required (%s=1): %v", redistest.RequireEnv, err)
		}
		t.Skipf("redis-server not on PATH: %v", err)
	}
	dir := t.TempDir()
	caFile, certFile, keyFile := writeTLSFiles(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile, "--tls-auth-clients", "no",
		"--requirepass", password, "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"), "--save", "", "--appendonly", "no")
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool.AppendCertsFromPEM(ca)
	c := redis.NewClient(&redis.Options{Addr: addr, Password: password, TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return addr, caFile
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis-server with TLS exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server with TLS does not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeTLSFiles writes a CA, and a certificate it signed for 127.0.0.1
// with its key, as PEM files in dir.
func writeTLSFiles(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "subkit test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	write := func(name, typ string, b []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600))
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", der), write("server.key", "EC PRIVATE KEY", keyDER)
}
