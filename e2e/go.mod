module github.com/tourism-go/tourism/e2e

go 1.26.0
