module github.com/tourism-go/tourism/chaos

go 1.26.0
