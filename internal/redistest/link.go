package redistest

import (
	"io"
	"net"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Link is a TCP proxy in front of the server: one process's network path to
// Redis, which a test can cut (every open connection closed, new ones
// refused at once) and restore, while other processes keep theirs.
type Link struct {
	s     *Server
	ln    net.Listener
	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewLink starts a proxy to the server on a free loopback port; it is
// closed when the test ends.
func (s *Server) NewLink() *Link {
	s.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatalf("redistest: link: %v", err)
	}
	l := &Link{s: s, ln: ln, conns: map[net.Conn]struct{}{}}
	l.wg.Add(1)
	go l.serve()
	s.t.Cleanup(l.close)
	return l
}

// Client returns a client whose every connection goes through the link,
// closed when the test ends.
func (l *Link) Client() *redis.Client {
	o := l.s.Options()
	o.Addr = l.ln.Addr().String()
	c := redis.NewClient(o)
	l.s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Cut closes every connection through the link and refuses new ones until
// Restore.
func (l *Link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for c := range l.conns {
		_ = c.Close()
	}
}

// Restore lets connections through again.
func (l *Link) Restore() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = false
}

func (l *Link) serve() {
	defer l.wg.Done()
	for {
		in, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.cut {
			l.mu.Unlock()
			_ = in.Close()
			continue
		}
		out, err := net.Dial("tcp", l.s.Addr())
		if err != nil {
			l.mu.Unlock()
			_ = in.Close()
			continue
		}
		l.conns[in], l.conns[out] = struct{}{}, struct{}{}
		l.mu.Unlock()
		l.wg.Add(2)
		go l.pipe(out, in)
		go l.pipe(in, out)
	}
}

// pipe copies from src to dst until either closes, then closes both.
func (l *Link) pipe(dst, src net.Conn) {
	defer l.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	l.mu.Lock()
	delete(l.conns, dst)
	delete(l.conns, src)
	l.mu.Unlock()
}

func (l *Link) close() {
	_ = l.ln.Close()
	l.Cut()
	l.wg.Wait()
}
