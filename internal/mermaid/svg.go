package mermaid

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf8"
)

// Layout constants, in SVG user units.
const (
	charWidth = 7.2
	padX      = 14.0
	nodeH     = 34.0
	gapMain   = 56.0 // between layers
	gapCross  = 18.0 // between nodes of one layer
	margin    = 10.0
)

// SVG lays the graph out in layers (a node sits one layer after the
// deepest node it depends on) and draws it as a standalone <svg> element
// with one <g class="node"> per node carrying data-id and data-class
// attributes, so tests and readers can find nodes in the DOM.
func SVG(g Graph) string {
	index := map[string]int{}
	for i, n := range g.Nodes {
		index[n.ID] = i
	}
	parents := map[string][]string{}
	for _, e := range g.Edges {
		parents[e.To] = append(parents[e.To], e.From)
	}
	layer := map[string]int{}
	var depth func(id string, guard int) int
	depth = func(id string, guard int) int {
		if l, ok := layer[id]; ok {
			return l
		}
		if guard > len(g.Nodes) {
			return 0 // a cycle: stop rather than loop
		}
		l := 0
		for _, p := range parents[id] {
			l = max(l, depth(p, guard+1)+1)
		}
		layer[id] = l
		return l
	}
	layers := [][]Node{}
	for _, n := range g.Nodes {
		l := depth(n.ID, 0)
		for len(layers) <= l {
			layers = append(layers, nil)
		}
		layers[l] = append(layers[l], n)
	}

	width := func(n Node) float64 { return float64(utf8.RuneCountInString(n.Label))*charWidth + 2*padX }
	type box struct{ x, y, w, h float64 }
	boxes := map[string]box{}
	lr := g.Direction == "LR"
	// Main axis: layers; cross axis: nodes of a layer.
	mainPos := margin
	crossMax := 0.0
	for _, nodes := range layers {
		layerMain := 0.0
		cross := margin
		for _, n := range nodes {
			w := width(n)
			if lr {
				boxes[n.ID] = box{mainPos, cross, w, nodeH}
				cross += nodeH + gapCross
				layerMain = max(layerMain, w)
			} else {
				boxes[n.ID] = box{cross, mainPos, w, nodeH}
				cross += w + gapCross
				layerMain = max(layerMain, nodeH)
			}
		}
		crossMax = max(crossMax, cross-gapCross)
		mainPos += layerMain + gapMain
	}
	// Centre each layer on the cross axis so edges between layers of
	// different widths run straight where they can.
	for _, nodes := range layers {
		if len(nodes) == 0 {
			continue
		}
		last := boxes[nodes[len(nodes)-1].ID]
		extent := last.x + last.w - margin
		if lr {
			extent = last.y + last.h - margin
		}
		shift := (crossMax - margin - extent) / 2
		for _, n := range nodes {
			bx := boxes[n.ID]
			if lr {
				bx.y += shift
			} else {
				bx.x += shift
			}
			boxes[n.ID] = bx
		}
	}
	totalMain := mainPos - gapMain + margin
	totalCross := crossMax + margin
	w, h := totalCross, totalMain
	if lr {
		w, h = totalMain, totalCross
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img">`, w, h, w, h)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#495057"/></marker></defs>`)
	for _, e := range g.Edges {
		from, ok1 := boxes[e.From]
		to, ok2 := boxes[e.To]
		if !ok1 || !ok2 {
			continue
		}
		var x1, y1, x2, y2 float64
		if lr {
			x1, y1 = from.x+from.w, from.y+from.h/2
			x2, y2 = to.x, to.y+to.h/2
		} else {
			x1, y1 = from.x+from.w/2, from.y+from.h
			x2, y2 = to.x+to.w/2, to.y
		}
		// Control points halfway along the main axis make edges leave and
		// enter their boxes straight.
		c1x, c1y, c2x, c2y := (x1+x2)/2, y1, (x1+x2)/2, y2
		if !lr {
			c1x, c1y, c2x, c2y = x1, (y1+y2)/2, x2, (y1+y2)/2
		}
		fmt.Fprintf(&b, `<path class="edge" data-from="%s" data-to="%s" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="none" stroke="#495057" stroke-width="1.5" marker-end="url(#arrow)"/>`,
			attr(e.From), attr(e.To), x1, y1, c1x, c1y, c2x, c2y, x2, y2)
	}
	for _, n := range g.Nodes {
		bx := boxes[n.ID]
		fill, stroke := "#e7f5ff", "#1971c2"
		if style, ok := g.Classes[n.Class]; ok {
			fill, stroke = styleValue(style, "fill", fill), styleValue(style, "stroke", stroke)
		}
		fmt.Fprintf(&b, `<g class="node" data-id="%s" data-class="%s"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="%s" stroke="%s" stroke-width="1.5"/><text x="%.1f" y="%.1f" text-anchor="middle" dominant-baseline="central" font-family="sans-serif" font-size="12">%s</text></g>`,
			attr(n.ID), attr(n.Class), bx.x, bx.y, bx.w, bx.h, attr(fill), attr(stroke), bx.x+bx.w/2, bx.y+bx.h/2, html.EscapeString(n.Label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func styleValue(style, key, def string) string {
	for _, part := range strings.Split(style, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
		if ok && strings.TrimSpace(k) == key && safeColor(strings.TrimSpace(v)) {
			return strings.TrimSpace(v)
		}
	}
	return def
}

// safeColor accepts #rgb/#rrggbb and plain colour names only, so a style
// cannot smuggle anything into the SVG.
func safeColor(v string) bool {
	if v == "" || len(v) > 20 {
		return false
	}
	for i, r := range v {
		switch {
		case i == 0 && r == '#':
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		default:
			return false
		}
	}
	return true
}

func attr(s string) string { return html.EscapeString(s) }
