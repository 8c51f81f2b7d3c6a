module github.com/subkit-go/subkit/cmd/subkit

go 1.24.0

require (
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
	github.com/subkit-go/subkit v0.0.0-00010101000000-000000000000
	github.com/subkit-go/subkit/internal/redistest v0.0.0-00010101000000-000000000000
	github.com/subkit-go/subkit/subkitredis v0.0.0-00010101000000-000000000000
	golang.org/x/term v0.29.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.30.0 // indirect
	golang.org/x/time v0.14.0 // indirect
)

replace github.com/subkit-go/subkit => ../../

replace github.com/subkit-go/subkit/internal/redistest => ../../internal/redistest

replace github.com/subkit-go/subkit/subkitredis => ../../subkitredis
