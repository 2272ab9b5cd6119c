module github.com/tourism-go/tourism/services/tour-catalog

go 1.26.0

require github.com/tourism-go/tourism/pkg v0.0.0

require github.com/google/uuid v1.6.0

replace github.com/tourism-go/tourism/pkg => ../../pkg
