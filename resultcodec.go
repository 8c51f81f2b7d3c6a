package subkit

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"
)

// resultCodec compresses the results a MemoryStore keeps. Subscriptions of
// one store share most of their bytes (the keys, the product, its prices
// and meters), so each is deflated against a dictionary: the first result
// the store saw. A Polar subscription of ~5 KB then keeps a few hundred
// bytes. The zero resultCodec is ready to use and safe for concurrent use.
type resultCodec struct {
	once    sync.Once
	dict    []byte
	writers sync.Pool // *flate.Writer with dict
	readers sync.Pool // io.ReadCloser (flate.Resetter) with dict
}

// encode returns b compressed. The first b becomes the dictionary.
func (c *resultCodec) encode(b []byte) []byte {
	c.once.Do(func() { c.dict = append([]byte(nil), b...) })
	var out bytes.Buffer
	w, _ := c.writers.Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriterDict(&out, 2, c.dict) // level 2: BestSpeed (1) ignores the dictionary; the level is valid, no error
	} else {
		w.Reset(&out)
	}
	_, _ = w.Write(b) // a bytes.Buffer does not fail
	_ = w.Close()
	c.writers.Put(w)
	return bytes.Clone(out.Bytes())
}

// decode returns what encode was given. It cannot fail on what encode
// made; it returns nil if it somehow does, which a replay reads as no
// result and looks up instead.
func (c *resultCodec) decode(z []byte) []byte {
	r, _ := c.readers.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReaderDict(bytes.NewReader(z), c.dict)
	} else if err := r.(flate.Resetter).Reset(bytes.NewReader(z), c.dict); err != nil {
		return nil
	}
	b, err := io.ReadAll(r)
	c.readers.Put(r)
	if err != nil {
		return nil
	}
	return b
}
