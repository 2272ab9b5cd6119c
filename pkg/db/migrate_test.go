package db_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/dbtest"
)

type widgetV1 struct {
	ID   int64  `gorm:"primaryKey"`
	Name string `gorm:"size:40;not null"`
}

func (widgetV1) TableName() string { return "widgets" }

// widgetV2 is the same table one release later: a new column and index.
type widgetV2 struct {
	ID    int64  `gorm:"primaryKey"`
	Name  string `gorm:"size:40;not null"`
	Color string `gorm:"size:16;not null;default:'';index:widgets_color"`
}

func (widgetV2) TableName() string { return "widgets" }

// A restart with the same schema skips the migration; a changed model or
// extra statement migrates again.
func TestMigrateSkipsAnAppliedSchemaOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := t.Context()
		if err := db.Migrate(ctx, gdb, []any{&widgetV1{}}); err != nil {
			t.Fatal(err)
		}
		// Dropped behind Migrate's back: an unchanged schema is not
		// checked again, which is what makes a restart fast.
		if err := gdb.Exec("DROP TABLE widgets").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, gdb, []any{&widgetV1{}}); err != nil {
			t.Fatal(err)
		}
		if gdb.Migrator().HasTable("widgets") {
			t.Fatal("an applied schema was migrated again")
		}
		// A new field is a new schema: migrated.
		if err := db.Migrate(ctx, gdb, []any{&widgetV2{}}); err != nil {
			t.Fatal(err)
		}
		if !gdb.Migrator().HasColumn(&widgetV2{}, "color") || !gdb.Migrator().HasIndex(&widgetV2{}, "widgets_color") {
			t.Fatal("the changed model was not migrated")
		}
		// So is a new extra statement.
		extra := "CREATE INDEX IF NOT EXISTS widgets_name ON widgets (name)"
		if err := db.Migrate(ctx, gdb, []any{&widgetV2{}}, extra); err != nil {
			t.Fatal(err)
		}
		if !gdb.Migrator().HasIndex(&widgetV2{}, "widgets_name") {
			t.Fatal("the extra statement did not run")
		}
	})
}
