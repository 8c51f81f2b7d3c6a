package subkit

// TEMPORARY until the Polar graph lands.
type Metadata map[string]any

type Subscription struct {
	ID string `json:"id"`
}
