package mermaid

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func chain() Graph {
	g := Graph{Direction: "LR"}
	g.Nodes = []Node{{"t0", "pdf_chunks", "success"}, {"t1", `chain "v2" <b>`, "failed"}, {"t2", "eval", "skipped"}, {"t3", "report", ""}}
	g.Edges = []Edge{{"t0", "t1"}, {"t1", "t2"}, {"t0", "t3"}}
	g.AddClass("success", "fill:#d3f9d8,stroke:#2b8a3e")
	g.AddClass("failed", "fill:#ffe3e3,stroke:#c92a2a")
	return g
}

func TestStringParseRoundTrip(t *testing.T) {
	t.Parallel()
	g := chain()
	text := g.String()
	want := "graph LR\n  t0[\"pdf_chunks\"]:::success\n  t1[\"chain #quot;v2#quot; #lt;b#gt;\"]:::failed\n  t2[\"eval\"]:::skipped\n  t3[\"report\"]\n  t0 --> t1\n  t1 --> t2\n  t0 --> t3\n  classDef success fill:#d3f9d8,stroke:#2b8a3e\n  classDef failed fill:#ffe3e3,stroke:#c92a2a\n"
	if diff := cmp.Diff(want, text); diff != "" {
		t.Fatalf("String (-want +got):\n%s", diff)
	}
	back, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g, back); diff != "" {
		t.Errorf("Parse(String(g)) (-want +got):\n%s", diff)
	}
}

func TestParseRejectsWhatItCannotDraw(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "pie title x", "graph LR\n  a-->b-->c", "graph TD\n  click a call x()"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}

func TestSVGLayersAndEscapes(t *testing.T) {
	t.Parallel()
	svg := SVG(chain())
	for _, want := range []string{
		`<g class="node" data-id="t1" data-class="failed"><rect x="`,
		`fill="#ffe3e3" stroke="#c92a2a"`,
		`chain &#34;v2&#34; &lt;b&gt;</text>`,
		`data-from="t0" data-to="t1"`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<b>") {
		t.Error("label markup reached the SVG")
	}
	// t1 and t3 are one layer after t0; t2 one after t1: in LR, x grows.
	x := func(id string) string {
		i := strings.Index(svg, `data-id="`+id+`"`)
		rest := svg[i:]
		j := strings.Index(rest, `x="`) + 3
		return rest[j : j+strings.Index(rest[j:], `"`)]
	}
	if x("t1") != x("t3") || x("t0") == x("t1") || x("t1") == x("t2") {
		t.Errorf("layers wrong: t0=%s t1=%s t3=%s t2=%s", x("t0"), x("t1"), x("t3"), x("t2"))
	}
}

func TestSVGStyleCannotInject(t *testing.T) {
	t.Parallel()
	g := Graph{Direction: "TD", Nodes: []Node{{"a", "a", "evil"}}}
	g.AddClass("evil", `fill:red" onload="alert(1),stroke:#000`)
	if svg := SVG(g); strings.Contains(svg, "onload") {
		t.Errorf("style injected:\n%s", svg)
	}
}

func TestSVGSurvivesCycles(t *testing.T) {
	t.Parallel()
	g := Graph{Direction: "TD", Nodes: []Node{{"a", "a", ""}, {"b", "b", ""}}, Edges: []Edge{{"a", "b"}, {"b", "a"}}}
	if svg := SVG(g); !strings.Contains(svg, `data-id="b"`) {
		t.Error("cycle lost a node")
	}
}
