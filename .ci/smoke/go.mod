module github.com/tourism-go/tourism/ci/smoke

go 1.26.0

require golang.org/x/sync v0.25.0
