module github.com/subkit-go/subkit/cmd/subkit

go 1.24.0

require (
	github.com/jackc/pgx/v5 v5.8.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
	github.com/subkit-go/subkit v0.0.0-00010101000000-000000000000
	github.com/subkit-go/subkit/internal/pgtest v0.0.0-00010101000000-000000000000
	github.com/subkit-go/subkit/internal/redistest v0.0.0-00010101000000-000000000000
	github.com/subkit-go/subkit/subkitredis v0.0.0-00010101000000-000000000000
	github.com/subkit-go/subkit/subkitsql v0.0.0-00010101000000-000000000000
	golang.org/x/term v0.29.0
	modernc.org/sqlite v1.46.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.2 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/exp v0.0.0-20251023183803-a4bb9ffd2546 // indirect
	golang.org/x/sync v0.17.0 // indirect
	golang.org/x/sys v0.37.0 // indirect
	golang.org/x/text v0.29.0 // indirect
	golang.org/x/time v0.14.0 // indirect
	modernc.org/libc v1.67.6 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.11.0 // indirect
)

replace github.com/subkit-go/subkit => ../../

replace github.com/subkit-go/subkit/internal/pgtest => ../../internal/pgtest

replace github.com/subkit-go/subkit/internal/redistest => ../../internal/redistest

replace github.com/subkit-go/subkit/subkitredis => ../../subkitredis

replace github.com/subkit-go/subkit/subkitsql => ../../subkitsql
