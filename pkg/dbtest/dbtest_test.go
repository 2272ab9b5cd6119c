package dbtest_test

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/dbtest"
)

type widget struct {
	ID   uint
	Name string `gorm:"uniqueIndex"`
}

func TestEachGivesAFreshDatabase(t *testing.T) {
	for range 2 {
		dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
			if err := db.Migrate(t.Context(), gdb, []any{&widget{}}); err != nil {
				t.Fatal(err)
			}
			var n int64
			if err := gdb.Model(&widget{}).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("fresh database holds %d rows", n)
			}
			if err := gdb.Create(&widget{Name: "a"}).Error; err != nil {
				t.Fatal(err)
			}
			err := gdb.Create(&widget{Name: "a"}).Error
			if !errors.Is(err, db.ErrDuplicate) {
				t.Fatalf("second insert: got %v, want ErrDuplicate", err)
			}
		})
	}
}

func TestOutage(t *testing.T) {
	gdb := dbtest.Open(t, dbtest.SQLite)
	if err := gdb.Exec("CREATE TABLE t (n integer)").Error; err != nil {
		t.Fatal(err)
	}
	o := dbtest.NewOutage(t, gdb)
	o.Start()
	err := gdb.Exec("INSERT INTO t VALUES (1)").Error
	if !errors.Is(err, dbtest.ErrOutage) || !db.IsUnavailable(err) {
		t.Fatalf("insert during the outage: %v (want ErrOutage, unavailable)", err)
	}
	o.End()
	var n int64
	if err := gdb.Raw("SELECT count(*) FROM t").Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("after the outage: %d rows, %v (want 0: nothing was written)", n, err)
	}
}
