package service_test

import (
	"testing"

	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/services/tour-catalog/service"
)

func TestEnvExampleMatchesConfig(t *testing.T) {
	if err := config.CheckExample("../.env.example", service.Config{}); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidConfigIsReportedPerVariable(t *testing.T) {
	cfg := service.DefaultConfig()
	err := config.Load(&cfg, []string{"CATALOG_ADMIN_TOKEN=short", "HOLD_SWEEP_INTERVAL=fast", "PORT=0"})
	if config.ExitCode(err) != 2 {
		t.Fatalf("got %v, want a configuration error", err)
	}
	cerr := err.(*config.Error)
	if len(cerr.Problems) != 3 {
		t.Fatalf("want 3 problems, got %q", cerr.Problems)
	}
}
