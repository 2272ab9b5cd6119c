package dbtest

import (
	"net"
	"sync/atomic"
	"syscall"
	"testing"

	"gorm.io/gorm"
)

// ErrOutage is what every statement fails with during an Outage: a
// connection reset, which pkg/db's IsUnavailable recognises as the database
// being unreachable, the way a stopped PostgreSQL looks to a service.
var ErrOutage error = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

// Outage switches a database off and on for one test: while it is on, every
// statement made through the *gorm.DB it was made for fails with ErrOutage
// before reaching the database, so nothing is written.
type Outage struct {
	on atomic.Bool
}

// NewOutage installs the switch on gdb, off.
func NewOutage(t testing.TB, gdb *gorm.DB) *Outage {
	t.Helper()
	o := &Outage{}
	fail := func(db *gorm.DB) {
		if o.on.Load() {
			_ = db.AddError(ErrOutage)
		}
	}
	cb := gdb.Callback()
	for _, err := range []error{
		cb.Create().Before("gorm:create").Register("dbtest:outage", fail),
		cb.Query().Before("gorm:query").Register("dbtest:outage", fail),
		cb.Update().Before("gorm:update").Register("dbtest:outage", fail),
		cb.Delete().Before("gorm:delete").Register("dbtest:outage", fail),
		cb.Row().Before("gorm:row").Register("dbtest:outage", fail),
		cb.Raw().Before("gorm:raw").Register("dbtest:outage", fail),
	} {
		if err != nil {
			t.Fatalf("install outage switch: %v", err)
		}
	}
	return o
}

// Start makes every statement fail from now on.
func (o *Outage) Start() { o.on.Store(true) }

// End lets statements through again.
func (o *Outage) End() { o.on.Store(false) }
