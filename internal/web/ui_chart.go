package web

import (
	"fmt"
	"strings"
	"time"
)

// chartPoint is one value of a series.
type chartPoint struct {
	At    time.Time
	Value float64 // 0–100
}

// chart is a line chart drawn on the server as SVG: no script, nothing inline to allow.
type chart struct {
	Points   []chartPoint
	Polyline string // the points attribute of the line
	Dots     []chartDot
	W, H     int
}

type chartDot struct {
	X, Y  int
	Point chartPoint
}

// newChart lays points out on a 600×200 box, 0 at the bottom and 100 at the top.
func newChart(points []chartPoint) chart {
	c := chart{Points: points, W: 600, H: 200}
	const pad = 20
	var b strings.Builder
	for i, p := range points {
		x := pad
		if len(points) > 1 {
			x = pad + i*(c.W-2*pad)/(len(points)-1)
		}
		y := c.H - pad - int(p.Value*float64(c.H-2*pad)/100)
		fmt.Fprintf(&b, "%d,%d ", x, y)
		c.Dots = append(c.Dots, chartDot{X: x, Y: y, Point: p})
	}
	c.Polyline = strings.TrimSpace(b.String())
	return c
}
