// Command ginceiling is the benchmark's HTTP ceiling: the least a gin
// service can do for GET /v1/tours/{id}, a fixed JSON tour from memory with
// no middleware, no database and no logging. The services are measured as
// a fraction of what this reaches on the same machine in the same run.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
)

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type tour struct {
	ID           string    `json:"id"`
	Slug         string    `json:"slug"`
	Title        string    `json:"title"`
	Summary      string    `json:"summary"`
	Destination  string    `json:"destination"`
	DurationDays int       `json:"duration_days"`
	Difficulty   string    `json:"difficulty"`
	Price        money     `json:"price"`
	MaxGroupSize int       `json:"max_group_size"`
	CreatedAt    time.Time `json:"created_at"`
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3099"
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.GET("/v1/tours/:tour", func(c *gin.Context) {
		c.JSON(http.StatusOK, tour{
			ID: c.Param("tour"), Slug: "mont-blanc-circuit", Title: "Mont Blanc circuit",
			Summary: "Eleven days around the massif", Destination: "Chamonix", DurationDays: 11,
			Difficulty: "hard", Price: money{Amount: 189000, Currency: "EUR"}, MaxGroupSize: 12, CreatedAt: created,
		})
	})
	e.GET("/readyz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	if err := http.ListenAndServe("127.0.0.1:"+port, e); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
