package mermaid

import (
	"fmt"
	"regexp"
	"strings"
)

// Graph is a flowchart: nodes in order, edges between node ids, and the
// styles of node classes.
type Graph struct {
	// Direction is "LR" (left to right) or "TD" (top down).
	Direction string
	Nodes     []Node
	Edges     []Edge
	// Classes maps a class name to its style, for example
	// "fill:#d3f9d8,stroke:#2b8a3e".
	Classes map[string]string
	// ClassOrder keeps classDef lines in a stable order.
	ClassOrder []string
}

// Node is one box of the graph.
type Node struct {
	ID    string
	Label string
	Class string
}

// Edge is an arrow From → To.
type Edge struct{ From, To string }

// AddClass defines a node class's style.
func (g *Graph) AddClass(name, style string) {
	if g.Classes == nil {
		g.Classes = map[string]string{}
	}
	if _, ok := g.Classes[name]; !ok {
		g.ClassOrder = append(g.ClassOrder, name)
	}
	g.Classes[name] = style
}

// String writes the graph as mermaid text.
func (g Graph) String() string {
	var b strings.Builder
	dir := g.Direction
	if dir == "" {
		dir = "TD"
	}
	fmt.Fprintf(&b, "graph %s\n", dir)
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "  %s[\"%s\"]", n.ID, Label(n.Label))
		if n.Class != "" {
			fmt.Fprintf(&b, ":::%s", n.Class)
		}
		b.WriteString("\n")
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  %s --> %s\n", e.From, e.To)
	}
	for _, c := range g.ClassOrder {
		fmt.Fprintf(&b, "  classDef %s %s\n", c, g.Classes[c])
	}
	return b.String()
}

// Label escapes text for a quoted mermaid label so it cannot end the quotes
// or inject markup.
func Label(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ", "`", "#96;").Replace(s)
}

// unlabel reverses Label.
func unlabel(s string) string {
	return strings.NewReplacer("#quot;", `"`, "#lt;", "<", "#gt;", ">", "#96;", "`").Replace(s)
}

var (
	headerRe = regexp.MustCompile(`^(?:graph|flowchart)\s+(LR|RL|TD|TB|BT)\s*$`)
	nodeRe   = regexp.MustCompile(`^([A-Za-z_][\w-]*)\["([^"]*)"\](?::::([A-Za-z_][\w-]*))?$`)
	edgeRe   = regexp.MustCompile(`^([A-Za-z_][\w-]*)\s*-->\s*([A-Za-z_][\w-]*)$`)
	classRe  = regexp.MustCompile(`^classDef\s+([A-Za-z_][\w-]*)\s+(\S.*)$`)
)

// Parse reads the subset String writes. Anything else is an error naming
// the line, so a report can fall back to showing the text.
func Parse(text string) (Graph, error) {
	var g Graph
	seen := map[string]bool{}
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "%%") {
			continue
		}
		if g.Direction == "" {
			m := headerRe.FindStringSubmatch(line)
			if m == nil {
				return Graph{}, fmt.Errorf("line %d: %q is not a graph header", i+1, line)
			}
			g.Direction = map[string]string{"LR": "LR", "RL": "LR", "TD": "TD", "TB": "TD", "BT": "TD"}[m[1]]
			continue
		}
		switch {
		case nodeRe.MatchString(line):
			m := nodeRe.FindStringSubmatch(line)
			if !seen[m[1]] {
				seen[m[1]] = true
				g.Nodes = append(g.Nodes, Node{ID: m[1], Label: unlabel(m[2]), Class: m[3]})
			}
		case edgeRe.MatchString(line):
			m := edgeRe.FindStringSubmatch(line)
			for _, id := range m[1:3] {
				if !seen[id] {
					seen[id] = true
					g.Nodes = append(g.Nodes, Node{ID: id, Label: id})
				}
			}
			g.Edges = append(g.Edges, Edge{From: m[1], To: m[2]})
		case classRe.MatchString(line):
			m := classRe.FindStringSubmatch(line)
			g.AddClass(m[1], m[2])
		default:
			return Graph{}, fmt.Errorf("line %d: %q is not a node, edge or classDef", i+1, line)
		}
	}
	if g.Direction == "" {
		return Graph{}, fmt.Errorf("no graph header")
	}
	return g, nil
}
