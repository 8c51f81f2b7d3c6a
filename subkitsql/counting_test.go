package subkitsql_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"
)

// countingConnector opens connections of drv to dsn whose statements —
// each a round trip to the database — are counted in n (when not nil): what
// a keyed create costs the store, measured where the store cannot hide it.
type countingConnector struct {
	drv driver.Driver
	dsn string
	n   *atomic.Int64
}

func (c *countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: c.n}, nil
}

func (c *countingConnector) Driver() driver.Driver { return c.drv }

// countingConn passes every call to the driver's connection and counts the
// statements. It offers the context interfaces database/sql prefers, so
// that every statement the store runs goes through ExecContext or
// QueryContext here.
type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

var errNoContext = errors.New("the driver's connection has no context methods")

func (c *countingConn) count() {
	if c.n != nil {
		c.n.Add(1)
	}
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, errNoContext
	}
	c.count()
	return e.ExecContext(ctx, query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, errNoContext
	}
	c.count()
	return q.QueryContext(ctx, query, args)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errNoContext
	}
	return b.BeginTx(ctx, opts)
}

// ResetSession and IsValid keep the driver's own pool hygiene (pgx checks
// its connection before reuse).
func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue lets the driver convert arguments as it would unwrapped.
func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
