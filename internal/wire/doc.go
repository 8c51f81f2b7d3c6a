// Package wire is the SDK's hand-written JSON, for what a tagged struct and
// encoding/json do not cover well:
//
//   - encode.go: Object and AppendString write a request body of fixed shape
//     (strings, integers, booleans, string arrays, nested objects) byte for
//     byte as encoding/json.Marshal writes it, without reflection. ChatDash's
//     and Chargeflow's create bodies encode themselves with it; their tagged
//     structs stay the definition of the wire form, and tests compare the two.
//   - errorbody.go: DecodeError reads an error body leniently into an
//     ErrorInfo (code, message, field problems, request ID), in every shape
//     the three APIs are known to send.
//   - loose.go: DecodeObject and DecodePair decode the few values of a result
//     whose shape is not fixed in advance — objects of scalars such as
//     metadata, integers kept exact, and Polar's [value, format] tax ID — in
//     one pass, never failing on a value's type.
//
// Typed results are decoded by encoding/json into the root package's types,
// which call DecodeObject and DecodePair for those values.
package wire
