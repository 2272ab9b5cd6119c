package service_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/services/payment-gateway/service"
)

func TestEnvExampleMatchesConfig(t *testing.T) {
	if err := config.CheckExample("../.env.example", service.Config{}); err != nil {
		t.Fatal(err)
	}
}

func TestDefaults(t *testing.T) {
	cfg := service.DefaultConfig()
	if err := config.Load(&cfg, []string{"PAYMENT_API_KEY=sk_test_0123456789"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 3004 || cfg.SQLitePath != "data/payment-gateway.db" || cfg.WebhookURL != "" || cfg.WebhookMaxAttempts != 12 {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestConfigValidation(t *testing.T) {
	const key = "PAYMENT_API_KEY=sk_test_0123456789"
	tests := []struct {
		name    string
		environ []string
		// wantVars lists the variables reported, in order; nil: valid.
		wantVars []string
	}{
		{"one key", []string{key}, nil},
		{"two keys for a rotation", []string{"PAYMENT_API_KEY=sk_test_oldoldold, sk_test_newnewnew"}, nil},
		{"no key", nil, []string{"PAYMENT_API_KEY"}},
		{"only commas", []string{"PAYMENT_API_KEY=, ,"}, []string{"PAYMENT_API_KEY"}},
		{"a publishable key", []string{"PAYMENT_API_KEY=pk_test_0123456789"}, []string{"PAYMENT_API_KEY"}},
		{"a live key", []string{"PAYMENT_API_KEY=sk_live_0123456789"}, []string{"PAYMENT_API_KEY"}},
		{"too short", []string{"PAYMENT_API_KEY=sk_test_1234"}, []string{"PAYMENT_API_KEY"}},
		{"bad character", []string{"PAYMENT_API_KEY=sk_test_0123456789!"}, []string{"PAYMENT_API_KEY"}},
		{"one bad of two", []string{"PAYMENT_API_KEY=sk_test_0123456789,oops"}, []string{"PAYMENT_API_KEY"}},
		{"webhook", []string{key, "WEBHOOK_URL=http://booking-service:3002/v1/webhooks/payments", "WEBHOOK_SECRET=whsec_a,whsec_b"}, nil},
		{"webhook without a secret", []string{key, "WEBHOOK_URL=https://example.test/hook"}, []string{"WEBHOOK_SECRET"}},
		{"relative webhook URL", []string{key, "WEBHOOK_URL=/hook", "WEBHOOK_SECRET=s"}, []string{"WEBHOOK_URL"}},
		{"webhook URL of another scheme", []string{key, "WEBHOOK_URL=ftp://example.test/hook", "WEBHOOK_SECRET=s"}, []string{"WEBHOOK_URL"}},
		{"secret without a URL is fine", []string{key, "WEBHOOK_SECRET=s"}, nil},
		{"zero attempts", []string{key, "WEBHOOK_MAX_ATTEMPTS=0"}, []string{"WEBHOOK_MAX_ATTEMPTS"}},
		{"attempts not a number", []string{key, "WEBHOOK_MAX_ATTEMPTS=many"}, []string{"WEBHOOK_MAX_ATTEMPTS"}},
		{"timeout too short", []string{key, "WEBHOOK_TIMEOUT=1ms"}, []string{"WEBHOOK_TIMEOUT"}},
		{"interval not a duration", []string{key, "WEBHOOK_DISPATCH_INTERVAL=often"}, []string{"WEBHOOK_DISPATCH_INTERVAL"}},
		{"backoff cap below base", []string{key, "WEBHOOK_BACKOFF_BASE=1m", "WEBHOOK_BACKOFF_MAX=10s"}, []string{"WEBHOOK_BACKOFF_MAX"}},
		{"no concurrency", []string{key, "WEBHOOK_CONCURRENCY=0"}, []string{"WEBHOOK_CONCURRENCY"}},
		{"everything at once", []string{"PORT=0", "WEBHOOK_URL=nope", "WEBHOOK_CONCURRENCY=0"},
			[]string{"PORT", "PAYMENT_API_KEY", "WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_CONCURRENCY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := service.DefaultConfig()
			err := config.Load(&cfg, tt.environ)
			if tt.wantVars == nil {
				if err != nil {
					t.Fatalf("Load = %v", err)
				}
				return
			}
			if config.ExitCode(err) != 2 {
				t.Fatalf("Load = %v, want a configuration error", err)
			}
			var vars []string
			for _, p := range err.(*config.Error).Problems {
				name, _, _ := strings.Cut(p, ":")
				vars = append(vars, name)
			}
			if !slices.Equal(vars, tt.wantVars) {
				t.Fatalf("problems %q, want one per variable in %v", err.(*config.Error).Problems, tt.wantVars)
			}
		})
	}
}

// A bad key is reported by position, never quoted: the message goes to
// logs that more people read than should know the key.
func TestConfigErrorsDoNotQuoteSecrets(t *testing.T) {
	cfg := service.DefaultConfig()
	err := config.Load(&cfg, []string{"PAYMENT_API_KEY=sk_test_good_key_1,sk_test_bad-secret-value"})
	if err == nil || strings.Contains(err.Error(), "bad-secret-value") || !strings.Contains(err.Error(), "entry 2") {
		t.Fatalf("error %v", err)
	}
}
